# gunicorn's entry into the Neutron API (scripts/local-cloud/neutron.sh). Neutron reads gunicorn's
# argv as its own options, like Keystone: reset it before importing the app.
import sys
sys.argv = sys.argv[:1]
from neutron.wsgi.api import application  # noqa: E402,F401
