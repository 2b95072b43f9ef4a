/**
 * The web app manifest: what makes the dashboard installable (name,
 * standalone display, start URL and scope relative to wherever it is
 * hosted, icons of 192 and 512 pixels, one of them maskable).
 */
export const THEME_COLOR = "#1d273d";

export const ICONS = [
  { src: "icon-192.png", size: 192, maskable: false },
  { src: "icon-512.png", size: 512, maskable: false },
  { src: "icon-maskable-512.png", size: 512, maskable: true },
] as const;

export function webManifest(): string {
  return JSON.stringify(
    {
      id: "./",
      name: "Weft",
      short_name: "Weft",
      description:
        "Tasks, runs and artifacts shared between your machines and agents — local-first, every action signed.",
      start_url: "./",
      scope: "./",
      display: "standalone",
      background_color: THEME_COLOR,
      theme_color: THEME_COLOR,
      icons: ICONS.map((i) => ({
        src: i.src,
        sizes: `${i.size}x${i.size}`,
        type: "image/png",
        purpose: i.maskable ? "maskable" : "any",
      })),
    },
    null,
    2,
  );
}
