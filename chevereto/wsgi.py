from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from chevereto.core.slowclients import SlowClientGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chevereto.settings")

# Slow clients wait outside the application (chevereto/core/slowclients.py).
application = SlowClientGuard(get_wsgi_application())
