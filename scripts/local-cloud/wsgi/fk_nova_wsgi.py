# gunicorn's entry into the Nova API (scripts/local-cloud/nova.sh). Nova reads gunicorn's argv as
# its own options, like Keystone: reset it before importing the app.
import sys
sys.argv = sys.argv[:1]
from nova.wsgi.osapi_compute import application  # noqa: E402,F401
