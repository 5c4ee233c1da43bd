/*
 * Registry tokens made as Portus makes them (lib/portus/jwt_token.rb):
 * a JWT signed RS256 with Portus's private key (PORTUS_KEY_PATH), whose
 * "kid" is derived from the key as Portus and the registry (libtrust,
 * from its rootcertbundle) both derive it.  All libcrypto calls live
 * here.  The key is read once per configuration; neither it nor a token
 * is ever logged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "extern.h"

#define TOKEN_LIFE	300	/* seconds a token is good for */
#define TOKEN_EARLY	5	/* nbf before iat, as Portus has it */
#define KID_BYTES	30	/* of the SHA-256, as libtrust takes them */

struct signer {
	EVP_PKEY	*key;
	char		 kid[80];
};

/* Writes n bytes of p as base32 (RFC 4648, no padding) into out.
 * Returns the length written. */
static size_t
base32(const unsigned char *p, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned int	 buf = 0;
	size_t		 i, len = 0;
	int		 bits = 0;

	for (i = 0; i < n; i++) {
		buf = (buf << 8 | p[i]) & 0xffff;
		bits += 8;
		while (bits >= 5) {
			out[len++] = a[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[len++] = a[(buf << (5 - bits)) & 31];
	out[len] = '\0';
	return len;
}

/* Writes the key ID of pkey: base32 of the first 30 bytes of the SHA-256
 * of its public key (SubjectPublicKeyInfo, DER), in groups of four joined
 * by ':'.  Returns 0, or -1. */
static int
key_id(EVP_PKEY *pkey, char *kid, size_t sz)
{
	struct sha256	 c;
	unsigned char	*der = NULL, md[32];
	char		 b32[64];
	size_t		 n, i, o = 0;
	int		 len;

	if ((len = i2d_PUBKEY(pkey, &der)) <= 0)
		return -1;
	sha256_init(&c);
	sha256_update(&c, der, (size_t)len);
	sha256_final(&c, md);
	OPENSSL_free(der);
	n = base32(md, KID_BYTES, b32);
	for (i = 0; i < n; i += 4) {
		if (o + 6 > sz)
			return -1;
		if (i > 0)
			kid[o++] = ':';
		memcpy(kid + o, b32 + i, 4);
		o += 4;
	}
	kid[o] = '\0';
	return 0;
}

/*
 * Reads Portus's private key at path.  Returns a signer, or NULL with err
 * saying why (never a byte of the key).
 */
struct signer *
signer_load(const char *path, char *err, size_t sz)
{
	struct signer	*s;
	FILE		*fp;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, sz, "cannot read PORTUS_KEY_PATH: %s",
		    strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		fclose(fp);
		snprintf(err, sz, "out of memory");
		return NULL;
	}
	s->key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (s->key == NULL || EVP_PKEY_get_base_id(s->key) != EVP_PKEY_RSA) {
		snprintf(err, sz, "PORTUS_KEY_PATH holds no RSA private key "
		    "in PEM");
		signer_free(s);
		return NULL;
	}
	if (key_id(s->key, s->kid, sizeof(s->kid)) == -1) {
		snprintf(err, sz, "PORTUS_KEY_PATH: cannot derive its key ID");
		signer_free(s);
		return NULL;
	}
	return s;
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	free(s);
}

/* Returns the key ID of the signer's key. */
const char *
signer_kid(const struct signer *s)
{
	return s->kid;
}

/* Appends the base64url (no padding) of n bytes of p to out. */
static void
b64url(const unsigned char *p, size_t n, char *out, size_t *len)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t		 i;
	unsigned long	 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		out[(*len)++] = a[v >> 18 & 63];
		out[(*len)++] = a[v >> 12 & 63];
		out[(*len)++] = a[v >> 6 & 63];
		out[(*len)++] = a[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned long)p[i] << 16;
		out[(*len)++] = a[v >> 18 & 63];
		out[(*len)++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		out[(*len)++] = a[v >> 18 & 63];
		out[(*len)++] = a[v >> 12 & 63];
		out[(*len)++] = a[v >> 6 & 63];
	}
	out[*len] = '\0';
}

/* Returns the compact JSON of o (owned by o), or NULL. */
static const char *
compact(json_object *o, size_t *len)
{
	return json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

/*
 * Makes a token for the registry whose service is aud, issued by iss,
 * for its catalog (registry:catalog:*), as Portus's JwtToken does.
 * Returns it (to free), or NULL with err set.
 */
char *
token_make(struct signer *s, const char *iss, const char *aud, char *err,
    size_t sz)
{
	json_object	*hdr = NULL, *claims = NULL, *access, *scope, *acts;
	EVP_MD_CTX	*ctx = NULL;
	unsigned char	 rnd[16], *sig = NULL;
	char		*out = NULL, jti[33];
	const char	*h, *c;
	size_t		 hl, cl, siglen = 0, len = 0, cap, i;
	time_t		 now = time(NULL);

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, sz, "no random bytes");
		return NULL;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	hdr = json_object_new_object();
	claims = json_object_new_object();
	access = json_object_new_array();
	scope = json_object_new_object();
	acts = json_object_new_array();
	if (hdr == NULL || claims == NULL || access == NULL || scope == NULL ||
	    acts == NULL) {
		json_object_put(access);
		json_object_put(scope);
		json_object_put(acts);
		goto nomem;
	}
	json_object_object_add(hdr, "typ", json_object_new_string("JWT"));
	json_object_object_add(hdr, "alg", json_object_new_string("RS256"));
	json_object_object_add(hdr, "kid", json_object_new_string(s->kid));
	json_object_object_add(claims, "iss", json_object_new_string(iss));
	json_object_object_add(claims, "sub", json_object_new_string("portus"));
	json_object_object_add(claims, "aud", json_object_new_string(aud));
	json_object_object_add(claims, "iat", json_object_new_int64(now));
	json_object_object_add(claims, "nbf",
	    json_object_new_int64(now - TOKEN_EARLY));
	json_object_object_add(claims, "exp",
	    json_object_new_int64(now + TOKEN_LIFE));
	json_object_object_add(claims, "jti", json_object_new_string(jti));
	json_object_array_add(acts, json_object_new_string("*"));
	json_object_object_add(scope, "type", json_object_new_string("registry"));
	json_object_object_add(scope, "name", json_object_new_string("catalog"));
	json_object_object_add(scope, "actions", acts);
	json_object_array_add(access, scope);
	json_object_object_add(claims, "access", access);
	if ((h = compact(hdr, &hl)) == NULL || (c = compact(claims, &cl)) ==
	    NULL)
		goto nomem;
	/* The signing input, then "." and the signature: 4/3 of each. */
	cap = (hl + cl) * 4 / 3 + 1024;
	if ((out = malloc(cap)) == NULL)
		goto nomem;
	b64url((const unsigned char *)h, hl, out, &len);
	out[len++] = '.';
	b64url((const unsigned char *)c, cl, out, &len);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)out, len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)out, len) != 1 ||
	    len + 2 + siglen * 4 / 3 + 4 > cap) {
		snprintf(err, sz, "cannot sign a token");
		free(out);
		out = NULL;
		goto out;
	}
	out[len++] = '.';
	b64url(sig, siglen, out, &len);
	goto out;
nomem:
	snprintf(err, sz, "out of memory");
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	json_object_put(hdr);
	json_object_put(claims);
	return out;
}
