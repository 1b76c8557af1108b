"""A token server for CNCF distribution's `auth: token`, for .ci/oci-registry.

    oci-token-server.py DIR SIGNING_KEY SIGNING_CERT TLS_CERT TLS_KEY USER PASSWORD SERVICE ISSUER

Serves https://127.0.0.1:PORT/token (PORT written to DIR/port once listening): a request with
the right HTTP Basic login gets a JWT (RS256, signed with SIGNING_KEY through `openssl dgst`,
its certificate in the `x5c` header, which the registry checks against its rootcertbundle)
granting every action each `scope` asks for; a wrong or missing login gets 401. Each request
is logged to DIR/token.log as one JSON line (service, scopes, whether the login was right).
Stops when killed or after ten minutes.
"""

import base64
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

LIFETIME_SECONDS = 600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main(root, key, cert, tls_cert, tls_key, user, password, service, issuer) -> None:
    der = subprocess.run(
        ["openssl", "x509", "-in", cert, "-outform", "DER"], check=True, capture_output=True
    ).stdout
    header = b64url(
        json.dumps({"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}).encode()
    )
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    log = open(os.path.join(root, "token.log"), "a", encoding="utf-8")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (the stdlib's signature)
            pass

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            scopes = query.get("scope", [])
            ok = self.headers.get("Authorization") == expected
            with lock:
                log.write(
                    json.dumps(
                        {"service": query.get("service", [""])[0], "scopes": scopes, "login": ok}
                    )
                    + "\n"
                )
                log.flush()
            if url.path != "/token" or not ok:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            access = []
            for scope in scopes:
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            claims = {
                "iss": issuer,
                "sub": user,
                "aud": service,
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": b64url(os.urandom(12)),
                "access": access,
            }
            signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
            signature = subprocess.run(
                ["openssl", "dgst", "-sha256", "-sign", key],
                input=signing_input.encode(),
                check=True,
                capture_output=True,
            ).stdout
            body = json.dumps(
                {"token": f"{signing_input}.{b64url(signature)}", "expires_in": 300}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_cert, tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Timer(LIFETIME_SECONDS, server.shutdown).start()
    port_file = os.path.join(root, "port")
    with open(port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:10])
