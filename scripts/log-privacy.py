#!/usr/bin/env python3
"""Greps the server logs of a test run for personal data: tokens (JWTs), Finnish personal
identity codes, phone numbers in full, and every message, name, address and reason the browser
tests type (the string literals they send or fill in, 12 characters or more). Any hit fails.

    scripts/log-privacy.py LOG_DIR [TEST_DIR]

LOG_DIR holds the logs (ui-tests/lib/server.js writes one file per server there when
LUUKKU_LOG_DIR is set); TEST_DIR (default ui-tests/tests) the tests whose typed text is looked
for. Nothing found is printed in full: a hit names the file, the line number and the kind.
"""
import pathlib
import re
import sys

PATTERNS = {
    "token": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"),
    "identity code": re.compile(r"\b[0-3]\d[01]\d\d\d[-+A-FU-Y]\d{3}[0-9A-FHJ-NPR-Y]\b"),
    "phone number": re.compile(r"\+358[\s-]?\d{2}[\s-]?\d{3}[\s-]?\d{2,4}"),
}

TYPED = re.compile(r"\.(?:send|fill|say|sendMessage|type)\(\s*'([^'\\]{12,})'")


def typed_texts(test_dir: pathlib.Path) -> set[str]:
    texts = set()
    for f in sorted(test_dir.glob("*.js")):
        texts.update(TYPED.findall(f.read_text(encoding="utf-8")))
    return texts


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    log_dir = pathlib.Path(sys.argv[1])
    test_dir = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "ui-tests/tests")
    typed = typed_texts(test_dir)
    logs = sorted(log_dir.glob("*.log"))
    lines = 0
    hits = []
    for log in logs:
        for n, line in enumerate(log.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            lines += 1
            for kind, pattern in PATTERNS.items():
                if pattern.search(line):
                    hits.append(f"{log.name}:{n}: {kind}")
            for text in typed:
                if text in line:
                    hits.append(f"{log.name}:{n}: a text the test typed ({len(text)} characters)")
    print(f"log privacy: {len(logs)} server logs, {lines} lines, {len(typed)} typed texts looked for")
    for h in hits[:50]:
        print(f"  personal data in a log: {h}")
    if not logs:
        print("log privacy: no logs to check", file=sys.stderr)
        return 1
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
