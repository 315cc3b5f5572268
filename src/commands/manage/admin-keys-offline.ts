// Placeholder until the admin-keys service lands on main.
export async function createKeyInStore(_place: { dataDir?: string; databaseUrl?: string }, _key: { name: string; expiresInSeconds?: number; permissions?: string[] }): Promise<any> {
  throw new Error('not yet');
}
