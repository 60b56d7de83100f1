# gunicorn's entry into Placement (scripts/local-cloud/placement.sh). Placement reads gunicorn's
# argv as its own options, like Keystone: reset it before importing the app.
import sys
sys.argv = sys.argv[:1]
from placement.wsgi.api import application  # noqa: E402,F401
