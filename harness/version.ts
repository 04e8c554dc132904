/** xend-compat's version (package.json's), for reports, recordings and `--version`. A leaf module: nothing imported. */
export const VERSION = "0.1.0";
