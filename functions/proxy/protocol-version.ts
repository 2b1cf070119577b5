/**
 * Protocol-version step: an `MCP-Protocol-Version` header, when sent, must look like one (a
 * date); which versions are spoken is the upstream's to decide.
 */
import { badRequest } from '../shared/errors.ts';

const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

export function checkProtocolVersion(req: Request): void {
  const pv = req.headers.get('mcp-protocol-version');
  if (pv !== null && !PROTOCOL_VERSION.test(pv)) {
    throw badRequest('invalid_request', 'invalid MCP-Protocol-Version header', `bad protocol version ${pv}`);
  }
}
