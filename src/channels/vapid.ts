import { generateVAPIDKeys } from 'web-push';
import { loadOrCreateSecret } from '../generated-secret';

export interface StoredVapidKeys {
  publicKey: string;
  privateKey: string;
  /** True when this call generated the pair (browsers subscribed under an older key must resubscribe if it changes). */
  created: boolean;
}

/**
 * The server's VAPID key pair, generated on first start and kept in `${dataDir}/vapid.json` (mode 0600):
 * every existing subscription is bound to the public key, so it must survive restarts.
 */
export function loadOrCreateVapidKeys(dataDir: string): StoredVapidKeys {
  return loadOrCreateSecret(dataDir, 'vapid.json', generateVAPIDKeys, ['publicKey', 'privateKey'], 'a VAPID key pair');
}
