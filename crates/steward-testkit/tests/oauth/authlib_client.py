"""A real, independent OAuth 2.0 / OpenID Connect client (Authlib, from PyPI)
against a running Steward server. Run by the `oauth_authlib` integration test,
which passes the server, a signed-in browser cookie and a registered app in the
environment. Every check raises on failure; the last line printed is "ok".

The person's part (consent in the browser) is done with plain HTTP requests
carrying the person's session cookie, as a browser would send them.
"""

import html
import os
import re
import sys
import time
from urllib.parse import urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

BASE = os.environ["STEWARD_BASE"]
COOKIE = os.environ["STEWARD_COOKIE"]  # name=value of the person's session cookie
CLIENT_ID = os.environ["STEWARD_CLIENT_ID"]
CLIENT_SECRET = os.environ["STEWARD_CLIENT_SECRET"]
REDIRECT = os.environ["STEWARD_REDIRECT_URI"]
EMAIL = os.environ["STEWARD_EMAIL"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def person():
    """The person's browser: their session cookie, Origin as a browser sends on forms."""
    s = requests.Session()
    name, value = COOKIE.split("=", 1)
    s.cookies.set(name, value, domain=urlparse(BASE).hostname, path="/")
    s.headers["Origin"] = BASE
    return s


def approve(url):
    """Opens the authorization URL as the person, clicks Allow, and returns where the
    "You are signed in" page sends the browser (the app's redirect URI with the code)."""
    browser = person()
    page = browser.get(url, allow_redirects=True)
    check(page.status_code == 200, f"approve page: {page.status_code} {page.text[:300]}")
    if 'http-equiv="refresh"' not in page.text:
        found = re.search(r'<form method="post" action="(/oauth/authorize/[^"]+)"', page.text)
        check(found is not None, f"an approve page: {page.url} {page.text[:3000]}")
        action = found.group(1)
        account = re.search(r'name="as_account" value="([^"]*)"', page.text).group(1)
        page = browser.post(BASE + html.unescape(action), data={"decision": "allow", "as_account": account})
        check(page.status_code == 200, f"allow: {page.status_code} {page.text[:300]}")
    target = re.search(r'http-equiv="refresh" content="1;url=([^"]+)"', page.text)
    check(target is not None, f"the confirmation page names where to go next: {page.text[:2000]}")
    return html.unescape(target.group(1))


def main():
    # Discovery.
    meta = requests.get(BASE + "/.well-known/openid-configuration").json()
    check(meta["issuer"] == BASE, f"issuer {meta['issuer']}")
    check(meta["code_challenge_methods_supported"] == ["S256"], "S256 only")
    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"]).json())

    # Authorization code + PKCE (S256), confidential client with client_secret_basic.
    client = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid profile email offline_access",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = os.urandom(40).hex()
    nonce = os.urandom(16).hex()
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    back = approve(url)
    check(back.startswith(REDIRECT + "?"), f"sent back to the app: {back}")
    check(f"iss={requests.utils.quote(BASE, safe='')}" in back, "RFC 9207 iss in the response")
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=back, code_verifier=verifier
    )
    check(token["token_type"] == "Bearer", "bearer token")

    # The ID token: signature from the JWKS, iss, aud, nonce, expiry.
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": BASE}},
        claims_params={"nonce": nonce, "client_id": CLIENT_ID},
    )
    claims.validate()
    check(claims["email"] == EMAIL, f"email claim {claims.get('email')}")
    check("auth_time" in claims and claims.get("acr") == "1", "auth_time and acr")

    # Userinfo with the access token.
    info = client.get(meta["userinfo_endpoint"]).json()
    check(info["sub"] == claims["sub"] and info["email"] == EMAIL, f"userinfo {info}")

    # Refresh: a new refresh token every time; the old one, replayed, ends the chain.
    first_refresh = token["refresh_token"]
    refreshed = client.refresh_token(meta["token_endpoint"])
    check(refreshed["refresh_token"] != first_refresh, "refresh token rotated")
    check(client.get(meta["userinfo_endpoint"]).status_code == 200, "new access token works")
    replay = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first_refresh},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    check(replay.status_code == 400 and replay.json()["error"] == "invalid_grant", f"replay {replay.text}")
    after = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    check(after.status_code == 400, "the whole chain is revoked after a replay")
    check(client.get(meta["userinfo_endpoint"]).status_code == 401, "its access token too")

    # A second sign-in (consent remembered: no Allow click needed), then
    # introspection and revocation.
    client = OAuth2Session(
        CLIENT_ID, CLIENT_SECRET, scope="openid email offline_access",
        redirect_uri=REDIRECT, code_challenge_method="S256",
    )
    verifier = os.urandom(40).hex()
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=approve(url), code_verifier=verifier
    )
    seen = client.introspect_token(meta["introspection_endpoint"], token=token["access_token"]).json()
    check(seen["active"] is True and seen["client_id"] == CLIENT_ID, f"introspect {seen}")
    check(seen["token_type"] == "access_token", "it is an access token")
    seen = client.introspect_token(
        meta["introspection_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    ).json()
    check(seen["active"] is True and seen["token_type"] == "refresh_token", f"introspect refresh {seen}")
    r = client.revoke_token(meta["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token")
    check(r.status_code == 200, f"revoke {r.status_code}")
    seen = client.introspect_token(meta["introspection_endpoint"], token=token["access_token"]).json()
    check(seen == {"active": False}, f"revoked: {seen}")
    bogus = client.introspect_token(meta["introspection_endpoint"], token="not-a-token").json()
    check(bogus == {"active": False}, "unknown tokens are inactive")

    # Device authorization grant with the public steward-cli client.
    device = OAuth2Session("steward-cli", token_endpoint_auth_method="none", scope="openid offline_access")
    grant = device.post(
        meta["device_authorization_endpoint"],
        data={"client_id": "steward-cli", "scope": "openid offline_access"},
        withhold_token=True,
    ).json()
    pending = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
              "device_code": grant["device_code"], "client_id": "steward-cli"},
    )
    check(pending.json()["error"] == "authorization_pending", f"pending {pending.text}")
    browser = person()
    page = browser.post(BASE + "/device", data={"user_code": grant["user_code"].lower()})
    check(page.status_code == 200 and grant["user_code"] in page.text, "the code is found")
    account = re.search(r'name="as_account" value="([^"]*)"', page.text).group(1)
    page = browser.post(
        BASE + "/device/decide",
        data={"user_code": grant["user_code"], "decision": "allow", "as_account": account},
    )
    check(page.status_code == 200 and "Device connected" in page.text, "approved")
    time.sleep(grant["interval"])
    token = device.fetch_token(
        meta["token_endpoint"],
        grant_type="urn:ietf:params:oauth:grant-type:device_code",
        device_code=grant["device_code"],
    )
    claims = jwt.decode(token["id_token"], jwks)
    claims.validate()
    check(claims["aud"] == "steward-cli", "device ID token for the CLI")
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report and fail
        import traceback

        traceback.print_exc()
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
