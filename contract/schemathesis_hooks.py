"""schemathesis hooks for scripts/contract.sh (loaded through SCHEMATHESIS_HOOKS).

Every request schemathesis sends is a new request, so a well-formed `Idempotency-Key` it generated
is replaced by a fresh UUID, as a real client's would be (README, "Retries"): otherwise its short
generated keys ("0", "A") come back with other bodies (422 idempotency_key_reused) or replay a
create whose resource a later step deleted. Malformed keys are left as generated, so the negative
checks still see them refused.
"""

import re
import uuid

import schemathesis

WELL_FORMED = re.compile(r"[\x20-\x7e]{1,255}")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and WELL_FORMED.fullmatch(value):
            headers[name] = str(uuid.uuid4())
