/*
 * xcdriver: xend-compat's conversion driver, compiled against a built libvirt tree.
 *
 * Our own code (xend-compat, LGPL-2.1-or-later). It calls the tree's own functions: the domain XML
 * parser and formatter (src/conf/domain_conf.c) and the Xen SXPR formatter and parser of that release
 * (src/xen/xend_internal.c, src/xenxs/xen_sxpr.c or src/xenconfig/xen_sxpr.c), with the capabilities
 * of the tree's own tests (tests/testutilsxen.c), so a conversion here is what the tree's own
 * sexpr2xmltest / xml2sexprtest would compute.
 *
 * Protocol (stdin/stdout, one request at a time):
 *   request:  "<command> <arg> <length>\n" followed by <length> bytes
 *   reply:    "ok <length>\n" + bytes     the result
 *             "err <length>\n" + bytes    libvirt refused; the bytes are libvirt's own message
 *             "no <length>\n" + bytes     this release cannot do that (e.g. no xend client)
 * Commands: version (arg and body ignored), to-sxpr <xendConfigVersion>, to-xml <xendConfigVersion>,
 *           wire <xendConfigVersion> (the define request's body: op=new&config=<sxpr>, as the
 *           release's xend client encodes it).
 * Native wire (the release's own xend client talking HTTP; XC_NATIVE != 0), one connection per handle:
 *   xopen <port>        open http://127.0.0.1:<port>/ with the tree's xenDaemonOpen (0.x: it asks
 *                       GET /xend/node/ for the config version; 1.x: xenDaemonNodeGetInfo does);
 *                       ok "<handle> <xendConfigVersion or -1>"
 *   xdefine <h> <xml>   the tree's xenDaemonDomainDefineXML (0.x: from the XML, then its own lookup;
 *                       1.x: from the def our parse gives, as xenUnifiedDomainDefineXML passes it)
 *   xstart <h> <name>   xenDaemonDomainCreate;  xdestroy <h> <name>  xenDaemonDomainDestroy[Flags]
 *   xdelete <h> <name>  xenDaemonDomainUndefine
 *   xfetch <h> <name>   xenDaemonDomainFetch, then the tree's virDomainDefFormat: ok <domain XML>
 *   xclose <h>          forget the handle
 *
 * The API era is chosen at compile time by macros the harness derives from the tree's headers:
 *   XC_SXPR_API     1: xenDaemonFormatSxpr/xenDaemonParseSxprString (src/xen/xend_internal.c, 0.8.x)
 *                   2: xenFormatSxpr(conn, def, version) / xenParseSxprString(sexpr, version, tty, vnc)
 *                   3: xenFormatSxpr(conn, def) / xenParseSxprString(sexpr, tty, vnc, caps, xmlopt)
 *   XC_DEFPARSE     1: (caps, xml, flags)  2: (caps, xml, virtTypes, flags)
 *                   3: (xml, caps, xmlopt, virtTypes, flags)  4: (xml, caps, xmlopt, flags)
 *                   5: (xml, caps, xmlopt, parseOpaque, flags)
 *   XC_DEFFORMAT_CAPS  virDomainDefFormat(def, caps, flags) instead of (def, flags)
 *   XC_XMLOPT       0: none  1: xenDomainXMLConfInit()  2: libxlCreateXMLConf()
 *   XC_CAPS         1: testXenCapsInit()  2: testXLInitCaps()
 *   XC_WIRE         0: no xend client in this release  1: raw (xend_op_ext joins unescaped)
 *                   2: virBufferURIEncodeString on every key and value (0.9.5 and later)
 *   XC_PARSE_FLAG   the "inactive" parse flag's name in this release
 *   XC_NATIVE       0: no xend client  1: virDomainPtr API (0.8.x-1.0.x: xenDaemonDomainDefineXML(conn, xml))
 *                   2: virDomainDefPtr API (1.x: xenDaemonDomainDefineXML(conn, def))
 *   XC_DESTROY_FLAGS   xenDaemonDomainDestroyFlags(dom, 0) instead of xenDaemonDomainDestroy(dom)
 *   XC_VIRURI       conn->uri is a virURIPtr (virURIParse) instead of libxml2's xmlURIPtr
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include "internal.h"
#include XC_INC_BUF
#include "domain_conf.h"
#include "testutilsxen.h"

#if XC_SXPR_API == 1
# include "datatypes.h"
# include "xen_driver.h"
# include "xend_internal.h"
#else
# include "xen_sxpr.h"
#endif
#if XC_XMLOPT == 1
# include "xen_driver.h"
#elif XC_XMLOPT == 2
# include "libxl_conf.h"
#endif
#if XC_NATIVE
# include "datatypes.h"
# include "driver.h"
# include "xen_driver.h"
# include "xend_internal.h"
# if XC_VIRURI
#  include "viruri.h"
# else
#  include <libxml/uri.h>
# endif
#endif

static virCapsPtr caps;
#if XC_XMLOPT
static virDomainXMLOptionPtr xmlopt;
#endif
#if XC_SXPR_API == 1
static virConnectPtr conn;
static struct _xenUnifiedPrivate priv;
#endif

static void quiet(void *ud ATTRIBUTE_UNUSED, virErrorPtr err ATTRIBUTE_UNUSED) {}

static void reply(const char *kind, const char *s, size_t n)
{
    printf("%s %zu\n", kind, n);
    if (n) fwrite(s, 1, n, stdout);
    fflush(stdout);
}

static void reply_error(const char *what)
{
    virErrorPtr e = virGetLastError();
    const char *msg = e && e->message ? e->message : what;
    reply("err", msg, strlen(msg));
}

static virDomainDefPtr parse_xml(const char *xml)
{
#if XC_DEFPARSE == 1
    return virDomainDefParseString(caps, xml, XC_PARSE_FLAG);
#elif XC_DEFPARSE == 2
    return virDomainDefParseString(caps, xml, 1 << VIR_DOMAIN_VIRT_XEN, XC_PARSE_FLAG);
#elif XC_DEFPARSE == 3
    return virDomainDefParseString(xml, caps, xmlopt, 1 << VIR_DOMAIN_VIRT_XEN, XC_PARSE_FLAG);
#elif XC_DEFPARSE == 4
    return virDomainDefParseString(xml, caps, xmlopt, XC_PARSE_FLAG);
#else
    return virDomainDefParseString(xml, caps, xmlopt, NULL, XC_PARSE_FLAG);
#endif
}

static char *format_sxpr(virDomainDefPtr def, int version)
{
#if XC_SXPR_API == 1
    return xenDaemonFormatSxpr(NULL, def, version);
#elif XC_SXPR_API == 2
    return xenFormatSxpr(NULL, def, version);
#else
    (void)version;
    return xenFormatSxpr(NULL, def);
#endif
}

static virDomainDefPtr parse_sxpr(const char *sxpr, int version)
{
#if XC_SXPR_API == 1
    priv.xendConfigVersion = version;
    return xenDaemonParseSxprString(conn, sxpr, version);
#elif XC_SXPR_API == 2
    return xenParseSxprString(sxpr, version, NULL, -1);
#else
    (void)version;
    return xenParseSxprString(sxpr, NULL, -1, caps, xmlopt);
#endif
}

static char *format_xml(virDomainDefPtr def)
{
#if XC_DEFFORMAT_CAPS
    return virDomainDefFormat(def, caps, 0);
#else
    return virDomainDefFormat(def, 0);
#endif
}

static void do_to_sxpr(const char *xml, int version, int wire)
{
    virDomainDefPtr def;
    char *sxpr;
    virResetLastError();
    if (!(def = parse_xml(xml))) { reply_error("cannot parse the domain XML"); return; }
    sxpr = format_sxpr(def, version);
    virDomainDefFree(def);
    if (!sxpr) { reply_error("cannot format the SXPR"); return; }
    if (!wire) {
        reply("ok", sxpr, strlen(sxpr));
    } else {
#if XC_WIRE == 2
        virBuffer buf = VIR_BUFFER_INITIALIZER;
        char *body;
        virBufferURIEncodeString(&buf, "op");
        virBufferAddLit(&buf, "=");
        virBufferURIEncodeString(&buf, "new");
        virBufferAddLit(&buf, "&");
        virBufferURIEncodeString(&buf, "config");
        virBufferAddLit(&buf, "=");
        virBufferURIEncodeString(&buf, sxpr);
        body = virBufferContentAndReset(&buf);
        if (!body) reply("err", "out of memory", 13);
        else reply("ok", body, strlen(body));
        free(body);
#elif XC_WIRE == 1
        /* xend_op_ext of this release joins key=value pairs with '&' and escapes nothing. */
        size_t n = strlen(sxpr);
        char *body = malloc(n + 16);
        if (!body) { reply("err", "out of memory", 13); free(sxpr); return; }
        memcpy(body, "op=new&config=", 14);
        memcpy(body + 14, sxpr, n + 1);
        reply("ok", body, n + 14);
        free(body);
#else
        static const char no[] = "this release has no xend client (removed in 4.3.0): no wire of its own";
        reply("no", no, sizeof(no) - 1);
#endif
    }
    free(sxpr);
}

static void do_to_xml(const char *sxpr, int version)
{
    virDomainDefPtr def;
    char *xml;
    virResetLastError();
    if (!(def = parse_sxpr(sxpr, version))) { reply_error("cannot parse the SXPR"); return; }
    xml = format_xml(def);
    virDomainDefFree(def);
    if (!xml) { reply_error("cannot format the domain XML"); return; }
    reply("ok", xml, strlen(xml));
    free(xml);
}

#if XC_NATIVE
/* One xend connection of the tree's own client per handle (the harness opens one per cell). */
struct xc_conn {
    int used;
    virConnectPtr conn;
    struct _xenUnifiedPrivate *priv;
# if XC_NATIVE == 1
    virDomainPtr dom;
# else
    virDomainDefPtr def;
# endif
};
# define XC_MAX_CONN 64
static struct xc_conn conns[XC_MAX_CONN];

# if XC_NATIVE == 1
/* virDomainLookupByName (which the tree's define and start end with) goes through conn->driver:
 * our driver table has that one entry, the tree's own xenDaemonLookupByName. */
static virDriver lookup_only;
# endif

static struct xc_conn *handle_of(int h)
{
    if (h < 0 || h >= XC_MAX_CONN || !conns[h].used) return NULL;
    return &conns[h];
}

static void do_xopen(int port)
{
    char uri[64];
    char out[64];
    int h;
    struct xc_conn *c;
    virResetLastError();
    for (h = 0; h < XC_MAX_CONN && conns[h].used; h++) ;
    if (h == XC_MAX_CONN) { static const char m[] = "too many open xend connections"; reply("err", m, sizeof(m) - 1); return; }
    c = &conns[h];
    memset(c, 0, sizeof *c);
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/", port);
    if (!(c->conn = virGetConnect())) { reply_error("virGetConnect failed"); return; }
    if (!(c->priv = calloc(1, sizeof *c->priv))) { reply("err", "out of memory", 13); return; }
    if (virMutexInit(&c->priv->lock) < 0) { reply_error("virMutexInit failed"); return; }
    c->priv->caps = caps;
    c->priv->handle = -1;
# if XC_NATIVE == 1
    c->priv->xendConfigVersion = -1;
    c->conn->driver = &lookup_only;
# endif
# if XC_XMLOPT == 1
    c->priv->xmlopt = xmlopt;
# endif
    c->conn->privateData = c->priv;
# if XC_VIRURI
    if (!(c->conn->uri = virURIParse(uri))) { reply_error("cannot parse the xend URI"); return; }
# else
    if (!(c->conn->uri = xmlParseURI(uri))) { reply_error("cannot parse the xend URI"); return; }
# endif
# if XC_NATIVE == 1
    if (xenDaemonOpen(c->conn, NULL, 0) != VIR_DRV_OPEN_SUCCESS) { reply_error("xenDaemonOpen failed"); return; }
    snprintf(out, sizeof out, "%d %d", h, c->priv->xendConfigVersion);
# else
    {
        virNodeInfo info;
        if (xenDaemonOpen(c->conn, NULL, 0) < 0) { reply_error("xenDaemonOpen failed"); return; }
        if (xenDaemonNodeGetInfo(c->conn, &info) < 0) { reply_error("xenDaemonNodeGetInfo failed"); return; }
    }
    snprintf(out, sizeof out, "%d -1", h);
# endif
    c->used = 1;
    reply("ok", out, strlen(out));
}

static void do_xdefine(struct xc_conn *c, const char *xml)
{
    virResetLastError();
# if XC_NATIVE == 1
    virDomainPtr dom = xenDaemonDomainDefineXML(c->conn, xml);
    if (!dom) {
        if (c->priv->xendConfigVersion < 3) { static const char m[] = "xend_config_format below 3: this release defines through its xm-file driver, not xend"; reply("no", m, sizeof(m) - 1); return; }
        reply_error("xenDaemonDomainDefineXML failed");
        return;
    }
    c->dom = dom;
# else
    virDomainDefPtr def = parse_xml(xml);
    if (!def) { reply_error("cannot parse the domain XML"); return; }
    if (xenDaemonDomainDefineXML(c->conn, def) < 0) { reply_error("xenDaemonDomainDefineXML failed"); virDomainDefFree(def); return; }
    if (c->def) virDomainDefFree(c->def);
    c->def = def;
# endif
    reply("ok", "", 0);
}

# if XC_NATIVE == 1
/* The domain object the define gave, else the tree's own lookup (as virsh does by name). */
static virDomainPtr dom_of(struct xc_conn *c, const char *name)
{
    if (c->dom && !strcmp(c->dom->name, name)) return c->dom;
    c->dom = xenDaemonLookupByName(c->conn, name);
    return c->dom;
}
# else
static virDomainDefPtr def_of(struct xc_conn *c, const char *name)
{
    if (c->def && !strcmp(c->def->name, name)) return c->def;
    if (c->def) virDomainDefFree(c->def);
    c->def = xenDaemonLookupByName(c->conn, name);
    return c->def;
}
# endif

static void do_xop(struct xc_conn *c, const char *cmd, const char *name)
{
    int r = -1;
    virResetLastError();
# if XC_NATIVE == 1
    virDomainPtr dom = dom_of(c, name);
    if (!dom) { reply_error("no such domain"); return; }
    if (!strcmp(cmd, "xstart")) r = xenDaemonDomainCreate(dom);
#  if XC_DESTROY_FLAGS
    else if (!strcmp(cmd, "xdestroy")) r = xenDaemonDomainDestroyFlags(dom, 0);
#  else
    else if (!strcmp(cmd, "xdestroy")) r = xenDaemonDomainDestroy(dom);
#  endif
    else if (!strcmp(cmd, "xdelete")) { r = xenDaemonDomainUndefine(dom); if (r == 0) c->dom = NULL; }
# else
    virDomainDefPtr def = def_of(c, name);
    if (!def) { reply_error("no such domain"); return; }
    if (!strcmp(cmd, "xstart")) r = xenDaemonDomainCreate(c->conn, def);
    else if (!strcmp(cmd, "xdestroy")) r = xenDaemonDomainDestroy(c->conn, def);
    else if (!strcmp(cmd, "xdelete")) r = xenDaemonDomainUndefine(c->conn, def);
# endif
    if (r < 0) { reply_error("the xend operation failed"); return; }
    reply("ok", "", 0);
}

static void do_xfetch(struct xc_conn *c, const char *name)
{
    virDomainDefPtr def;
    char *xml;
    virResetLastError();
    if (!(def = xenDaemonDomainFetch(c->conn, -1, name, NULL))) { reply_error("xenDaemonDomainFetch failed"); return; }
    xml = format_xml(def);
    virDomainDefFree(def);
    if (!xml) { reply_error("cannot format the domain XML"); return; }
    reply("ok", xml, strlen(xml));
    free(xml);
}

static void do_native(const char *cmd, int arg, const char *body)
{
    struct xc_conn *c;
    if (!strcmp(cmd, "xopen")) { do_xopen(arg); return; }
    if (!(c = handle_of(arg))) { static const char m[] = "no such xend connection handle"; reply("err", m, sizeof(m) - 1); return; }
    if (!strcmp(cmd, "xclose")) { c->used = 0; reply("ok", "", 0); return; }
    if (!strcmp(cmd, "xdefine")) do_xdefine(c, body);
    else if (!strcmp(cmd, "xfetch")) do_xfetch(c, body);
    else do_xop(c, cmd, body);
}
#else
static void do_native(const char *cmd, int arg, const char *body)
{
    static const char no[] = "this release has no xend client (removed in 4.3.0): no native wire";
    (void)cmd; (void)arg; (void)body;
    reply("no", no, sizeof(no) - 1);
}
#endif

int main(void)
{
    char line[256];
    signal(SIGPIPE, SIG_IGN);
    if (virInitialize() < 0) { fprintf(stderr, "xcdriver: virInitialize failed\n"); return 3; }
    virSetErrorFunc(NULL, quiet);
#if XC_CAPS == 1
    caps = testXenCapsInit();
#else
    caps = testXLInitCaps();
#endif
    if (!caps) { fprintf(stderr, "xcdriver: no capabilities\n"); return 3; }
#if XC_XMLOPT == 1
    xmlopt = xenDomainXMLConfInit();
#elif XC_XMLOPT == 2
    xmlopt = libxlCreateXMLConf();
#endif
#if XC_XMLOPT
    if (!xmlopt) { fprintf(stderr, "xcdriver: no xmlopt\n"); return 3; }
#endif
#if XC_SXPR_API == 1
    if (!(conn = virGetConnect())) { fprintf(stderr, "xcdriver: virGetConnect failed\n"); return 3; }
    memset(&priv, 0, sizeof priv);
    priv.caps = caps;
    conn->privateData = &priv;
    if (virMutexInit(&priv.lock) < 0) return 3;
#endif
#if XC_NATIVE == 1
    lookup_only.no = VIR_DRV_XEN_UNIFIED;
    lookup_only.name = "xend-compat";
    lookup_only.domainLookupByName = xenDaemonLookupByName;
#endif
    printf("ready %s\n", PACKAGE_VERSION);
    fflush(stdout);

    while (fgets(line, sizeof line, stdin)) {
        char cmd[32];
        int arg = 0;
        size_t len = 0;
        char *body;
        if (sscanf(line, "%31s %d %zu", cmd, &arg, &len) != 3) {
            fprintf(stderr, "xcdriver: bad request line\n");
            return 4;
        }
        if (!(body = malloc(len + 1))) return 5;
        if (len && fread(body, 1, len, stdin) != len) { free(body); return 4; }
        body[len] = '\0';
        if (!strcmp(cmd, "version")) reply("ok", PACKAGE_VERSION, strlen(PACKAGE_VERSION));
        else if (!strcmp(cmd, "to-sxpr")) do_to_sxpr(body, arg, 0);
        else if (!strcmp(cmd, "wire")) do_to_sxpr(body, arg, 1);
        else if (!strcmp(cmd, "to-xml")) do_to_xml(body, arg);
        else if (cmd[0] == 'x' && (!strcmp(cmd, "xopen") || !strcmp(cmd, "xdefine") || !strcmp(cmd, "xstart") || !strcmp(cmd, "xfetch") || !strcmp(cmd, "xdestroy") || !strcmp(cmd, "xdelete") || !strcmp(cmd, "xclose"))) do_native(cmd, arg, body);
        else if (!strcmp(cmd, "quit")) { free(body); break; }
        else { static const char u[] = "unknown command"; reply("no", u, sizeof(u) - 1); }
        free(body);
    }
    return 0;
}
