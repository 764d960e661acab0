"""``python -m kiosk.i18n extract|init|compile``: the catalogues' maintenance commands.

    extract [--check]   the .pot templates from the English tables; every .po updated
                        (--check: only say what is out of date, exit 1 if anything is)
    init LANG           begin a language: kiosk/locale/LANG/LC_MESSAGES/*.po from the templates
    compile [--out DIR] check every .po and write its .mo (beside it, or under DIR)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.i18n.build import LOCALE_DIR, CatalogueError, compile_catalogues


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.i18n", description=__doc__.split("\n\n")[0])
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR, help="the catalogues (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    extract_cmd = commands.add_parser("extract", help="make the templates and update every .po")
    extract_cmd.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is out of date")
    init_cmd = commands.add_parser("init", help="begin a new language from the templates")
    init_cmd.add_argument("language", help="its code: ko, zh_Hans, ...")
    compile_cmd = commands.add_parser("compile", help="check every .po and compile it to .mo")
    compile_cmd.add_argument("--out", type=Path, default=None, help="write the .mo files under this folder")
    args = parser.parse_args(argv)
    try:
        if args.command == "compile":
            done = compile_catalogues(args.locale_dir, args.out)
            print(f"compiled {len(done)} catalogues")
            return 0
        from kiosk.i18n import extract   # imports the English tables: only for these commands
        if args.command == "init":
            for path in extract.init(args.language, args.locale_dir):
                print(f"made {path}")
            return 0
        changed = extract.extract(args.locale_dir, write=not args.check)
        for path in changed:
            print(f"{'out of date' if args.check else 'updated'}: {path}")
        return 1 if args.check and changed else 0
    except (CatalogueError, ValueError) as e:
        print(f"kiosk.i18n: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
