"""`python -m services.auth` starts the auth server; `python -m services.auth keys ...` manages
the signing keys (list, rotate, remove; see `services/auth/keytool.py`)."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "keys":
    from services.auth.keytool import main as keys_main

    sys.exit(keys_main(sys.argv[2:]))

from services.auth.server import main

main()
