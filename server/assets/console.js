// The Luukku professional console (written in issue #3).
