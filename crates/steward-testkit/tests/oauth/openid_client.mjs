// A strict, independent OpenID Connect relying party (openid-client, from npm)
// against a running Steward server, driven step by step by the integration tests:
//
//   node openid_client.mjs start   → {"url": …, "state": {…}}   the authorization URL to open
//   node openid_client.mjs finish  → {"claims": …, "alg": …, "kid": …, "id_token": …}
//                                    or {"error": …, "error_description": …}
//
// The browser part in between (sign in, consent) is done by the test. `finish`
// checks what a strict client checks: the response's `state` and RFC 9207
// `iss`, PKCE, the nonce, `auth_time` against `max_age` (when sent), the ID
// token's `alg` against the app's registered `id_token_signed_response_alg`,
// and its signature against the server's JWKS.
//
// Environment: STEWARD_BASE, STEWARD_CLIENT_ID, STEWARD_CLIENT_SECRET (empty for
// a public app), STEWARD_REDIRECT_URI, STEWARD_ALG (ES256 or RS256),
// STEWARD_NODE_MODULES (where scripts/test installed openid-client); for
// `start` STEWARD_PARAMS (JSON of extra authorization parameters: prompt,
// max_age, id_token_hint, scope); for `finish` STEWARD_STATE (what `start`
// printed) and STEWARD_CALLBACK (the URL the browser was sent back to).

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const env = (name) => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const require = createRequire(`${env("STEWARD_NODE_MODULES")}/`);
const oidc = await import(pathToFileURL(require.resolve("openid-client")).href);

async function configuration() {
  const secret = process.env.STEWARD_CLIENT_SECRET || "";
  const config = await oidc.discovery(
    new URL(env("STEWARD_BASE")),
    env("STEWARD_CLIENT_ID"),
    {
      id_token_signed_response_alg: env("STEWARD_ALG"),
      // The server's clock is the test's; a few seconds of slack, no more, so a
      // stale auth_time is caught.
      [oidc.clockTolerance]: 3,
    },
    secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
  // Check ID token signatures against the JWKS too (not only TLS trust).
  oidc.enableNonRepudiationChecks(config);
  return config;
}

async function start() {
  const config = await configuration();
  const extra = JSON.parse(process.env.STEWARD_PARAMS || "{}");
  const verifier = oidc.randomPKCECodeVerifier();
  const state = {
    verifier,
    nonce: oidc.randomNonce(),
    state: oidc.randomState(),
    max_age: extra.max_age === undefined ? undefined : Number(extra.max_age),
  };
  const params = {
    redirect_uri: env("STEWARD_REDIRECT_URI"),
    scope: "openid email",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: state.state,
    nonce: state.nonce,
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
  };
  return { url: oidc.buildAuthorizationUrl(config, params).href, state };
}

async function finish() {
  const config = await configuration();
  const state = JSON.parse(env("STEWARD_STATE"));
  try {
    const tokens = await oidc.authorizationCodeGrant(config, new URL(env("STEWARD_CALLBACK")), {
      pkceCodeVerifier: state.verifier,
      expectedState: state.state,
      expectedNonce: state.nonce,
      maxAge: state.max_age ?? undefined,
      idTokenExpected: true,
    });
    const header = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url"));
    return { claims: tokens.claims(), alg: header.alg, kid: header.kid, id_token: tokens.id_token };
  } catch (e) {
    if (e instanceof oidc.AuthorizationResponseError) {
      return { error: e.error, error_description: e.error_description };
    }
    throw e;
  }
}

try {
  const step = process.argv[2];
  const out = step === "start" ? await start() : step === "finish" ? await finish() : null;
  if (out === null) throw new Error(`unknown step ${step}`);
  console.log(JSON.stringify(out));
} catch (e) {
  const chain = [];
  for (let c = e; c; c = c.cause) chain.push(`${c.name ?? ""}: ${c.message ?? JSON.stringify(c)} ${c.code ?? ""}`);
  console.error(`FAILED: ${chain.join(" <- ")}`);
  process.exit(1);
}
