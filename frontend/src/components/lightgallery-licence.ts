/**
 * lightGallery is dual-licensed: GPLv3, or a paid commercial licence with a key. FaceExplore is
 * GPL-3.0-or-later and uses it under the GPLv3, whose terms need no key; the key setting then
 * just says so ("GPLv3"). lightGallery only checks that a key is given and is not its trial
 * placeholder '0000-0000-000-0000', which warns "not valid for production use" in the console.
 * A deployment under lightGallery's commercial licence builds with VITE_LIGHTGALLERY_LICENSE.
 */
export const LICENSE_KEY = (import.meta.env.VITE_LIGHTGALLERY_LICENSE as string | undefined) || 'GPLv3';
