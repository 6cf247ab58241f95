/**
 * Loads models from a directory of `<name>/{manifest.json, model.onnx}` through parseManifest (the train → serve
 * contract) and keeps one ModelRuntime per model. The composition root owns the registry; sessions look models up
 * by name.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type ModelManifest } from './model-manifest.ts';
import { ModelRuntime, type ModelRuntimeOptions } from './model-runtime.ts';

export interface LoadedModel {
  name: string;
  dir: string;
  manifest: ModelManifest;
  runtime: ModelRuntime;
}

export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
}

export async function readManifest(modelDir: string): Promise<ModelManifest> {
  const path = join(modelDir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseManifest(raw);
  } catch (err) {
    throw new ModelLoadError(`invalid manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export async function loadModelDir(modelDir: string, options: ModelRuntimeOptions): Promise<LoadedModel> {
  const manifest = await readManifest(modelDir);
  const runtime = await ModelRuntime.load(modelDir, manifest, options);
  return { name: manifest.name, dir: modelDir, manifest, runtime };
}

/**
 * The model directories under `modelsDir` (sub-directories with a manifest.json), sorted, with their manifests;
 * fails on duplicate names and when the default model is missing. The I/O thread reads models this way when the
 * engine (and ONNX Runtime) lives in worker threads.
 */
export async function readModelDirs(modelsDir: string, defaultModel: string): Promise<Array<{ dir: string; manifest: ModelManifest }>> {
  let entries: string[];
  try {
    entries = (await readdir(modelsDir)).sort();
  } catch (err) {
    throw new ModelLoadError(`cannot list models directory ${modelsDir}: ${(err as Error).message}`, { cause: err });
  }
  const found: Array<{ dir: string; manifest: ModelManifest }> = [];
  for (const entry of entries) {
    const dir = join(modelsDir, entry);
    const hasManifest = await stat(join(dir, 'manifest.json')).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!hasManifest) continue;
    const manifest = await readManifest(dir);
    if (found.some((m) => m.manifest.name === manifest.name)) throw new ModelLoadError(`two models named ${manifest.name} in ${modelsDir}`);
    found.push({ dir, manifest });
  }
  if (!found.some((m) => m.manifest.name === defaultModel)) {
    const names = found.map((m) => m.manifest.name).join(', ') || 'none';
    throw new ModelLoadError(`default model "${defaultModel}" not found in ${modelsDir} (found: ${names})`);
  }
  return found;
}

export class ModelRegistry {
  private readonly models = new Map<string, LoadedModel>();
  readonly defaultModel: string;

  private constructor(models: LoadedModel[], defaultModel: string) {
    for (const m of models) this.models.set(m.name, m);
    this.defaultModel = defaultModel;
  }

  /**
   * Loads every sub-directory of `modelsDir` that has a manifest.json. A model that fails to load fails the whole
   * load (a server that silently serves fewer models than deployed is worse than one that does not start).
   */
  static async load(modelsDir: string, defaultModel: string, options: ModelRuntimeOptions): Promise<ModelRegistry> {
    const loaded: LoadedModel[] = [];
    try {
      for (const { dir, manifest } of await readModelDirs(modelsDir, defaultModel)) {
        const runtime = await ModelRuntime.load(dir, manifest, options);
        loaded.push({ name: manifest.name, dir, manifest, runtime });
      }
    } catch (err) {
      await Promise.all(loaded.map((m) => m.runtime.close()));
      throw err;
    }
    return new ModelRegistry(loaded, defaultModel);
  }

  get(name: string): LoadedModel | undefined {
    return this.models.get(name);
  }

  list(): LoadedModel[] {
    return [...this.models.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((m) => m.runtime.close()));
  }
}
