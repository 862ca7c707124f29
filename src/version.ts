/** openrtc's own version, as in package.json (a test keeps the two equal). */
export const OPENRTC_VERSION = '0.1.0';
