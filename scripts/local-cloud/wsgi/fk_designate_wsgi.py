# gunicorn's entry into the Designate API (scripts/local-cloud/designate.sh). Designate's own
# entry (designate.wsgi.api) parses an empty argv and reads OS_DESIGNATE_CONFIG_DIR; argv is
# reset anyway, like the other services' entries.
import sys
sys.argv = sys.argv[:1]
from designate.wsgi.api import application  # noqa: E402,F401
