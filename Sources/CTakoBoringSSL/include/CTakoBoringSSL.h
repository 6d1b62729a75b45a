#ifndef C_TAKO_BORINGSSL_H
#define C_TAKO_BORINGSSL_H

/// One BoringSSL setting SwiftNIO SSL does not expose: the server's cipher order. The
/// BoringSSL copy inside swift-nio-ssl is linked into every program that uses NIOSSL, under
/// the `CNIOBoringSSL_` prefix; its module is not a product, so the one function needed is
/// declared here (tako_boringssl.c) rather than imported.
///
/// `ssl_ctx` is the `SSL_CTX *` of an `NIOSSLContext`.
void tako_ssl_ctx_prefer_server_ciphers(void *ssl_ctx);

#endif
