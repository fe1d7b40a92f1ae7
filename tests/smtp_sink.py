"""A real SMTP server on loopback for the reminder tests (aiosmtpd): every message it accepts
is written to a folder as <n>.eml, with the envelope in <n>.json, so the tests read the mails.

usage: smtp_sink.py PORT FOLDER [USER PASSWORD]
With USER and PASSWORD it requires AUTH (PLAIN/LOGIN, allowed without TLS on loopback).
Prints "ready" once it listens; runs until killed."""
import email
import email.policy
import json
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.folder, "%06d" % self.count)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "subject": str(message["subject"]),
                       "body": message.get_content(),
                       "authenticated": bool(getattr(session, "authenticated", False))},
                      f, ensure_ascii=False)
        os.rename(base + ".tmp", base + ".eml")
        return "250 OK queued as %06d" % self.count


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            auth_data.login.decode() == user and auth_data.password.decode() == password
        # handled=False: aiosmtpd answers 535 itself on a failure.
        return AuthResult(success=ok, handled=False)
    return check


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    kwargs = {}
    if len(sys.argv) >= 5:
        kwargs = {"authenticator": authenticator(sys.argv[3], sys.argv[4]),
                  "auth_require_tls": False, "auth_required": True}
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
