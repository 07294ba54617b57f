// The Luukku chat widget (written in issue #3).
