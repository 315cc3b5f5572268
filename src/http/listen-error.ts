import { ConfigError } from '../config.js';

/**
 * What a failed listen means to an operator, in one line the CLI prints as it is (a ConfigError), instead of a
 * stack trace: a port taken or forbidden, or an address not on this machine. Anything else is returned unchanged.
 */
export function listenError(err: unknown, host: string, port: number, flags = { host: '--host', port: '--port' }): unknown {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new ConfigError(`port ${port} on ${host} is already in use (EADDRINUSE); choose another with ${flags.port}`);
    case 'EACCES':
      return new ConfigError(`port ${port} on ${host} may not be opened by this user (EACCES); choose one above 1023 with ${flags.port}`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`${host} is not an address of this machine (EADDRNOTAVAIL); choose another with ${flags.host}`);
    default:
      return err;
  }
}
