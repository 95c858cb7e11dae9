// Bearer tokens as ARM checks them: every request carries `Authorization: Bearer <token>`;
// anything else is a 401 in ARM's error shape. Tests hand the SDK a credential that always
// returns the emulator's one token.
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { IncomingMessage } from 'node:http';
import { ArmError } from './arm-http';

/** A TokenCredential that always answers `token` (for the SDK against the emulator). */
export function fixedCredential(token: string): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp: Date.now() + 60 * 60_000 };
    },
  };
}

export function checkBearer(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization;
  if (!header) {
    throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {
      'WWW-Authenticate':
        'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
    });
  }
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m || m[1] !== token) {
    throw new ArmError(
      401,
      'AuthenticationFailed',
      m ? 'Authentication failed. The access token is invalid.' : "Authentication failed. The 'Authorization' header is not a Bearer token.",
      {
        'WWW-Authenticate': 'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The access token is invalid."',
      },
    );
  }
}
