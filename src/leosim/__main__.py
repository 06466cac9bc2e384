from leosim.apps.cli.main import main

main()
