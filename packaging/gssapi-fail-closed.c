// Fail-closed stand-ins for the eight GSSAPI calls in Debian's libgit2.a (HTTP "Negotiate"
// authentication), linked into the static release build only: Debian ships no static GSSAPI
// library, and git-mtime never opens a network connection. Every call that could authenticate
// returns GSS_S_FAILURE, so libgit2 reports "Negotiate" as unavailable; the release calls only
// free what the failing calls never allocated. Types are spelled out (not <gssapi/gssapi.h>) so
// the release build needs no Kerberos headers; the layouts are RFC 2744's C bindings.
#include <stddef.h>
#include <stdint.h>

typedef uint32_t OM_uint32;
typedef struct { OM_uint32 length; void *elements; } gss_OID_desc, *gss_OID;
typedef struct { size_t count; gss_OID elements; } gss_OID_set_desc, *gss_OID_set;
typedef struct { size_t length; void *value; } gss_buffer_desc, *gss_buffer_t;
typedef void *gss_name_t, *gss_ctx_id_t, *gss_cred_id_t, *gss_channel_bindings_t;

#define GSS_S_COMPLETE ((OM_uint32)0)
#define GSS_S_FAILURE ((OM_uint32)13 << 16)

static gss_OID_desc no_name_type = {0, NULL};
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &no_name_type;

static OM_uint32 fail(OM_uint32 *minor) {
    if (minor) *minor = 0;
    return GSS_S_FAILURE;
}

OM_uint32 gss_indicate_mechs(OM_uint32 *minor, gss_OID_set *mechanisms) {
    if (mechanisms) *mechanisms = NULL;
    return fail(minor);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t name, gss_OID type, gss_name_t *output) {
    (void)name; (void)type;
    if (output) *output = NULL;
    return fail(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t credential, gss_ctx_id_t *context,
                               gss_name_t target, gss_OID mechanism, OM_uint32 flags, OM_uint32 time,
                               gss_channel_bindings_t bindings, gss_buffer_t input, gss_OID *actual,
                               gss_buffer_t output, OM_uint32 *returnedFlags, OM_uint32 *validTime) {
    (void)credential; (void)context; (void)target; (void)mechanism; (void)flags; (void)time;
    (void)bindings; (void)input;
    if (actual) *actual = NULL;
    if (output) { output->length = 0; output->value = NULL; }
    if (returnedFlags) *returnedFlags = 0;
    if (validTime) *validTime = 0;
    return fail(minor);
}

OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, gss_OID mechanism,
                             OM_uint32 *messageContext, gss_buffer_t message) {
    (void)status; (void)type; (void)mechanism;
    if (messageContext) *messageContext = 0;
    if (message) { message->length = 0; message->value = NULL; }
    return fail(minor);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t output) {
    if (minor) *minor = 0;
    if (context) *context = NULL;
    if (output) { output->length = 0; output->value = NULL; }
    return GSS_S_COMPLETE;
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer) {
    if (minor) *minor = 0;
    if (buffer) { buffer->length = 0; buffer->value = NULL; }
    return GSS_S_COMPLETE;
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name) {
    if (minor) *minor = 0;
    if (name) *name = NULL;
    return GSS_S_COMPLETE;
}

OM_uint32 gss_release_oid_set(OM_uint32 *minor, gss_OID_set *set) {
    if (minor) *minor = 0;
    if (set) *set = NULL;
    return GSS_S_COMPLETE;
}
