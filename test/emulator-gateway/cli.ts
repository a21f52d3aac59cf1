/**
 * Runs the gateway emulator as a process (reached through `npm run emulator -- --service gateway …`):
 *   --port N  --host H  --base-path /v1  --dialect seed|images  --size-style WxH|W*H
 *   --thinking-default true|false  --unknown-fields reject|ignore  --models-route list|absent
 *   --generation-ms N  --per-image-ms N  --url-ttl-s N  --key K (repeatable; replaces the default keys)
 * Prints "Gateway emulator listening on http://HOST:PORT" and the keys; exits cleanly on SIGTERM/SIGINT.
 */
import { eachFlag, runEmulatorCli } from '../emulator/cli-common';
import { isDialectName } from './dialects';
import { GATEWAY_EMULATOR_KEYS, startGatewayEmulator, type GatewayDialect, type GatewayDialectName, type GatewayEmulatorOptions, type GatewayTiming } from './index';

export const GATEWAY_USAGE =
	'Usage: npm run emulator -- --service gateway [--port N] [--host H] [--base-path /v1] [--dialect seed|images] [--size-style WxH|W*H] ' +
	'[--thinking-default true|false] [--unknown-fields reject|ignore] [--models-route list|absent] [--generation-ms N] [--per-image-ms N] [--url-ttl-s N] [--key K]...\n';

export function parseGatewayArgs(argv: string[]): GatewayEmulatorOptions {
	const opts: GatewayEmulatorOptions = {};
	const timing: Partial<GatewayTiming> = {};
	const dialect: Partial<GatewayDialect> & { preset?: GatewayDialectName } = {};
	const keys: string[] = [];
	eachFlag(argv, ({ flag, arg, value, num }) => {
		const oneOf = <T extends string>(allowed: readonly T[]): T => {
			const v = value();
			if (!(allowed as readonly string[]).includes(v)) throw new Error(`${flag} must be ${allowed.join(' or ')}`);
			return v as T;
		};
		if (flag === '--port') opts.port = num();
		else if (flag === '--host') opts.host = value();
		else if (flag === '--base-path') opts.basePath = value();
		else if (flag === '--dialect') {
			const v = value();
			if (!isDialectName(v)) throw new Error('--dialect must be seed or images');
			dialect.preset = v;
		} else if (flag === '--size-style') dialect.sizeStyle = oneOf(['WxH', 'W*H'] as const);
		else if (flag === '--thinking-default') dialect.defaultThinkingMode = oneOf(['true', 'false'] as const) === 'true';
		else if (flag === '--unknown-fields') dialect.unknownFields = oneOf(['reject', 'ignore'] as const);
		else if (flag === '--models-route') opts.modelsRoute = oneOf(['list', 'absent'] as const);
		else if (flag === '--generation-ms') timing.generationMs = num();
		else if (flag === '--per-image-ms') timing.perImageMs = num();
		else if (flag === '--url-ttl-s') opts.urlTtlSeconds = num();
		else if (flag === '--key') keys.push(value());
		else throw new Error(`unknown option ${arg}\n${GATEWAY_USAGE}`);
	});
	if (Object.keys(dialect).length) opts.dialect = dialect;
	if (Object.keys(timing).length) opts.timing = timing;
	if (keys.length) opts.keys = keys;
	return opts;
}

export function runGatewayCli(argv: string[]): Promise<void> {
	return runEmulatorCli(argv, {
		name: 'Gateway',
		usage: GATEWAY_USAGE,
		parse: parseGatewayArgs,
		start: (opts) => startGatewayEmulator(opts),
		describe: (emulator, opts) => [
			`base URL: ${emulator.apiUrl}  (POST /images/generations, GET /models)`,
			`dialect: ${JSON.stringify(emulator.dialect)}`,
			...(opts.keys ?? GATEWAY_EMULATOR_KEYS).map((key) => `key: ${key}`),
		],
	});
}
