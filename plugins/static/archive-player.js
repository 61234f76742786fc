// A click on a time link plays that moment in one player docked at the bottom of the page.
// Guarded: a published bundle's plugins may load beside the installed package's copies.
if (!window.archivePlayerListening) {
window.archivePlayerListening = true;
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.archive-time");
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  const [url, fragment] = link.href.split("#");
  const seconds = parseFloat((fragment || "").replace("t=", "")) || 0;
  let player = document.getElementById("archive-player");
  if (!player) {
    player = document.createElement("audio");
    player.id = "archive-player";
    player.controls = true;
    player.style.cssText = "position:fixed;left:0;bottom:0;width:100%;z-index:100";
    document.body.appendChild(player);
    document.body.style.paddingBottom = "4em";
  }
  document.querySelectorAll("audio").forEach((other) => other === player || other.pause());
  const play = () => { player.currentTime = seconds; player.play().catch(() => {}); };
  if (player.src === url) { play(); return; }
  player.src = url;
  player.addEventListener("loadedmetadata", play, { once: true });
});
}
