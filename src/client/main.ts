/**
 * The pages' browser bundle, built by scripts/build-client.mjs to /assets/app.js. Each feature
 * finds its elements by data attributes and does nothing on pages without them; add a feature by
 * importing its start function into the list below.
 */
const FEATURES: Array<[name: string, start: () => void]> = [];

document.addEventListener("DOMContentLoaded", () => {
  for (const [name, start] of FEATURES) {
    try {
      start();
    } catch (error) {
      console.warn(`page feature ${name} failed`, error);
    }
  }
});
