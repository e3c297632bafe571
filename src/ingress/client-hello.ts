/**
 * The server name (SNI, RFC 6066 §3) of a TLS ClientHello, read from the first bytes a client
 * sends, so the ingress can pick the certificate before any TLS state exists. Node's SNICallback
 * cannot be used for that: it swaps in a context's certificate only over the default's slot of
 * the same key type, and a client then gets the default EC certificate although the Secret holds
 * an RSA one (nodejs/node#54235).
 */

/**
 * The lowercase server name a ClientHello asks for; `null` when it names none or the bytes are
 * not a ClientHello (the default certificate is served, and TLS reports any error); `undefined`
 * while the first TLS record has not arrived in full.
 */
export function clientHelloServerName(bytes: Buffer): string | null | undefined {
  if (bytes.length < 5) return undefined;
  if (bytes[0] !== 0x16) return null; // not a handshake record
  const end = 5 + bytes.readUInt16BE(3);
  if (bytes.length < end) return undefined;
  // Only the first record is read (a ClientHello fits one, up to 16 KiB); reading past it throws.
  const b = bytes.subarray(0, end);
  try {
    if (b[5] !== 0x01) return null; // not a ClientHello
    let p = 5 + 4 + 2 + 32; // handshake header, legacy_version, random
    p += 1 + b.readUInt8(p); // legacy_session_id
    p += 2 + b.readUInt16BE(p); // cipher_suites
    p += 1 + b.readUInt8(p); // legacy_compression_methods
    if (p >= b.length) return null; // no extensions
    const extensionsEnd = p + 2 + b.readUInt16BE(p);
    p += 2;
    while (p + 4 <= extensionsEnd) {
      const type = b.readUInt16BE(p);
      const length = b.readUInt16BE(p + 2);
      p += 4;
      if (type === 0) {
        // server_name: a list of (name_type, name); host_name is type 0
        const listEnd = p + 2 + b.readUInt16BE(p);
        for (let q = p + 2; q + 3 <= listEnd; ) {
          const nameLength = b.readUInt16BE(q + 1);
          if (b.readUInt8(q) === 0) {
            if (q + 3 + nameLength > b.length) return null;
            return b.toString('latin1', q + 3, q + 3 + nameLength).toLowerCase();
          }
          q += 3 + nameLength;
        }
        return null;
      }
      p += length;
    }
    return null;
  } catch {
    return null;
  }
}
