from gradcheck.cli import main

raise SystemExit(main())
