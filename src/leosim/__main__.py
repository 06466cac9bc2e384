import sys

try:  # Ctrl-C while the package imports (about a second) is one line too, not a traceback
    from leosim.apps.cli.app import main
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)

main()
