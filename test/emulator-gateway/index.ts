/**
 * OpenAI-style images gateway emulator for `wan2.7-image` / `wan2.7-image-pro` — an independent
 * implementation of seed 002 as written up in /work/shared/reference/GATEWAY_API.md, the oracle the
 * node's gateway service is tested against. It imports nothing from nodes/ and no model knowledge
 * from the other emulators (only generic HTTP, image-decoding and picture-rendering helpers).
 *
 *   const gw = await startGatewayEmulator({ dialect: 'seed', timing: { generationMs: 20 } });
 *   fetch(`${gw.apiUrl}/images/generations`, { method: 'POST', headers: { Authorization: `Bearer ${GATEWAY_EMULATOR_KEYS[0]}`,
 *     'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'wan2.7-image', prompt: 'a teapot', size: '1K' }) });
 */
import { emulatorHandle, type EmulatorHandle } from '../emulator/control-common';
import { resolveDialect } from './dialects';
import { GatewayHttpServer } from './server';
import { GATEWAY_EMULATOR_KEYS, GatewayState } from './state';
import {
	DEFAULT_GATEWAY_TIMING,
	type GatewayCounters,
	type GatewayDialect,
	type GatewayEmulatorOptions,
	type GatewayFaultRule,
	type GatewayGenerationSnapshot,
	type GatewayRecordedRequest,
	type GatewayTiming,
} from './types';

export { GATEWAY_EMULATOR_KEYS };
export { DIALECT_PRESETS } from './dialects';
export { DEFAULT_GATEWAY_TIMING } from './types';
export type * from './types';

export interface GatewayEmulator extends EmulatorHandle<GatewayTiming, GatewayFaultRule, GatewayCounters, GatewayRecordedRequest> {
	readonly dialect: GatewayDialect;
	generations(): GatewayGenerationSnapshot[];
	/** Ends the pending work and held answers now (tests use a long generation time, then this). */
	completePending(): void;
	/** Resolves once `count` generations have started since the last reset. */
	waitForGenerations(count: number): Promise<void>;
	/** Resolves when no generation request is being handled (every answer sent or lost). */
	idle(): Promise<void>;
}

export async function startGatewayEmulator(opts: GatewayEmulatorOptions = {}): Promise<GatewayEmulator> {
	const basePath = `/${(opts.basePath ?? '/v1').replace(/^\/+|\/+$/g, '')}`;
	if (basePath === '/' || basePath.startsWith('/__emulator') || basePath.startsWith('/results')) throw new Error(`basePath ${basePath} is reserved`);
	const urlTtlSeconds = opts.urlTtlSeconds ?? 86400;
	if (!(urlTtlSeconds > 0)) throw new Error('urlTtlSeconds must be > 0');
	const state = new GatewayState({
		timing: { ...DEFAULT_GATEWAY_TIMING },
		keys: opts.keys ?? GATEWAY_EMULATOR_KEYS,
		basePath,
		dialect: resolveDialect(opts.dialect),
		modelsRoute: opts.modelsRoute ?? 'list',
		aliases: opts.modelAliases ?? {},
		urlTtlSeconds,
		revisedPrompt: opts.revisedPrompt ?? 'prompt',
	});
	state.setTiming(opts.timing ?? {}); // validates
	state.config.timing = { ...state.timing };
	const server = new GatewayHttpServer(state);
	const url = await server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
	state.origin = url;
	return {
		...emulatorHandle(url, basePath, server, state),
		dialect: { ...state.config.dialect },
		generations: () => [...state.generations.values()].map((g) => state.snapshot(g)),
		completePending: () => state.completePending(),
		waitForGenerations: (count) => state.waitForGenerations(count),
		idle: () => state.idle(),
	};
}
