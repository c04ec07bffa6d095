"""Write pre-signed webhook requests for wrk (bench/webhook.lua), one per line:

    path <TAB> webhook-id <TAB> webhook-timestamp <TAB> webhook-signature <TAB> body

    python bench/make_requests.py --slug bench-salon --secret whsec_... --count 60000 --out var/bench/requests.tsv

Every request carries a distinct message id. By default every message also comes from a new
customer (the heaviest path: a new conversation and a queued turn per request); `--burst N`
makes each new customer send N messages in a row (one conversation and one queued turn per N).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conversations.signing import sign


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slug", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--burst", type=int, default=1, help="messages per customer (consecutive requests)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    now = int(time.time())
    path = f"/webhook/{args.slug}"
    with open(args.out, "w") as out:
        for n in range(args.count):
            phone = 70000000000 + n // max(1, args.burst)
            body = json.dumps(
                {"message_id": f"wamid.bench-{run}-{n}", "from": f"+{phone}", "name": "Bench", "type": "text",
                 "text": "Здравствуйте! Сколько стоит маникюр с покрытием?", "timestamp": now},
                separators=(",", ":"),
            )
            msg_id = f"msg_{run}_{n}"
            signature = sign(args.secret, msg_id, now, body.encode())
            out.write(f"{path}\t{msg_id}\t{now}\t{signature}\t{body}\n")


if __name__ == "__main__":
    main()
