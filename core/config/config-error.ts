/** A setting the service cannot start with. Its message names the variable and never echoes a secret. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
