from leosim.apps.cli.app import main

main()
