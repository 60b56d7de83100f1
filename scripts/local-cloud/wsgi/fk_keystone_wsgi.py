# gunicorn's entry into Keystone (scripts/local-cloud/keystone.sh). Keystone reads gunicorn's
# argv as its own command line: reset it before importing the app.
import sys
sys.argv = sys.argv[:1]
from keystone.server import wsgi  # noqa: E402
application = wsgi.initialize_public_application()
