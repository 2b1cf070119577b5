/**
 * A loopback stand-in for the AWS Parameters and Secrets Lambda Extension's HTTP API
 * (`GET /systemsmanager/parameters/get?name=…`, as functions/shared/origin-secret.ts and
 * proxy-keys.ts call it): it answers the named parameters with their values, anything else 400.
 * The bundled proxy reads its generated proxy secret this way (session binding is on by default).
 */
import { serve, type TestServer } from './net.ts';

export function startSecretsExtension(values: Readonly<Record<string, string>>): Promise<TestServer> {
  return serve((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const name = url.searchParams.get('name') ?? '';
    if (url.pathname !== '/systemsmanager/parameters/get' || !Object.hasOwn(values, name))
      return void res.writeHead(400).end('ParameterNotFound');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Parameter: { Name: name, Value: values[name] } }));
  });
}

/** The stand-in for a bundle's environment: its proxy secret's parameter answered with `value`. */
export function startProxySecretExtension(
  proxyEnv: Readonly<Record<string, string>>,
  value = 'b'.repeat(64),
): Promise<TestServer> {
  const name = JSON.parse(proxyEnv.MCP_AUTH_PROXY_CONFIG ?? '{}').proxy_secret_ssm_parameter;
  return startSecretsExtension(typeof name === 'string' ? { [name]: value } : {});
}
