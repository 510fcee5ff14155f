// A real OpenID Connect provider (panva/oidc-provider) for the SSO tests.
// Usage: node oidc_server.mjs <port> <redirect_uri>
// Any login name works at its development login form; the account's e-mail is <login>@sso.example.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const redirectUri = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'kiln',
      client_secret: 'kiln-test-secret',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@sso.example`, email_verified: true, preferred_username: id, name: id };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['kiln-oidc-test-cookie-key'] },
});

// Silence the development-only warnings on stderr; the test reads stdout for readiness.
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
