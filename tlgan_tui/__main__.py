from tlgan_tui.cli import main

raise SystemExit(main())
