/* xend-compat: force-included into every compile of an old libvirt build copy.
 * gcc 12 deletes `if (!arg)` tests in functions whose prototype says ATTRIBUTE_NONNULL for that
 * argument; libvirt 0.9.x calls such functions with NULL on purpose (its own tests then crash).
 * An empty definition here wins over libvirt's #ifndef-guarded one. */
#define ATTRIBUTE_NONNULL(m)
