#include "CTakoBoringSSL.h"
#include <stdint.h>

// BoringSSL's own declaration (include/openssl/ssl.h), with swift-nio-ssl's symbol prefix.
uint32_t CNIOBoringSSL_SSL_CTX_set_options(void *ctx, uint32_t options);

// SSL_OP_CIPHER_SERVER_PREFERENCE: for TLS 1.2, pick the first of the server's ciphers the
// client supports rather than the client's favourite.
#define TAKO_SSL_OP_CIPHER_SERVER_PREFERENCE 0x00400000u

void tako_ssl_ctx_prefer_server_ciphers(void *ssl_ctx) {
    CNIOBoringSSL_SSL_CTX_set_options(ssl_ctx, TAKO_SSL_OP_CIPHER_SERVER_PREFERENCE);
}
