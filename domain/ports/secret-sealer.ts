/**
 * Seals secrets before they are stored (envelope encryption under a key the store never holds) and opens them
 * again. `context` names where a sealed value belongs (`tenant/acme/signing_secrets`): it is authenticated with
 * the value, so a sealed value copied to another tenant or field does not open.
 *
 * `unseal` throws StoreUnavailableError when the key service cannot be reached, and an Error for a value that
 * does not open (tampered, sealed under another key, or for another context). Neither message quotes the value.
 */
export interface SecretSealer {
  seal(plaintext: string, context: string): Promise<string>;
  unseal(sealed: string, context: string): Promise<string>;
}
