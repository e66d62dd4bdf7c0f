from pathgrad.cli.main import main

raise SystemExit(main())
