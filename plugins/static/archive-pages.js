// The archive's pages: "/" focuses search, more results append in place, and the episode
// page's transcript follows its audio. Without this script every control still works as a
// plain link or form.
(() => {
  "use strict";

  function isTyping(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    const box = document.getElementById("archive-q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // More results: fetch the next page and append its groups, merging an episode that
  // continues from the last group shown.
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a.archive-more-link");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    link.textContent = "Loading…";
    let next;
    try {
      const response = await fetch(link.href, { headers: { accept: "text/html" } });
      if (!response.ok) throw new Error(response.status);
      next = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      window.location.href = link.href; // fall back to an ordinary page load
      return;
    }
    const groups = document.querySelector(".archive-groups");
    let firstNew = null;
    for (const group of next.querySelectorAll(".archive-groups > .archive-group")) {
      const last = groups.lastElementChild;
      const hits = group.querySelectorAll(".archive-hit");
      if (last && last.dataset.episode === group.dataset.episode) {
        const list = last.querySelector(".archive-hits");
        hits.forEach((hit) => list.appendChild(document.adoptNode(hit)));
        firstNew = firstNew || hits[0];
      } else {
        const adopted = document.adoptNode(group);
        groups.appendChild(adopted);
        firstNew = firstNew || adopted.querySelector(".archive-hit");
      }
    }
    const nextMore = next.querySelector(".archive-more");
    const more = link.closest(".archive-more");
    if (nextMore) more.replaceWith(document.adoptNode(nextMore));
    else more.remove();
    const target = firstNew && firstNew.querySelector("a");
    if (target) target.focus();
  });

  // The episode page.
  const audio = document.getElementById("archive-episode-audio");
  if (!audio) return;
  const segments = Array.from(document.querySelectorAll(".archive-segment"));
  const starts = segments.map((segment) => parseFloat(segment.dataset.start));
  const follow = document.getElementById("archive-follow");
  let current = null;

  function segmentAt(seconds) {
    // The last segment that starts at or before the moment (binary search).
    let low = 0, high = starts.length - 1, found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[middle] <= seconds + 0.05) { found = middle; low = middle + 1; }
      else high = middle - 1;
    }
    return found < 0 ? null : segments[found];
  }

  const chapterLinks = Array.from(document.querySelectorAll(".archive-toc a.archive-jump"));

  function markChapter(seconds) {
    // The chapter list shows which chapter is playing (a class: aria-current is the sentence's).
    let playing = null;
    for (const link of chapterLinks) if (parseFloat(link.dataset.start) <= seconds + 0.05) playing = link;
    chapterLinks.forEach((link) => link.classList.toggle("archive-current-chapter", link === playing));
  }

  function markCurrent(seconds, scroll) {
    markChapter(seconds);
    const segment = segmentAt(seconds);
    if (segment === current) return;
    if (current) { current.removeAttribute("aria-current"); current.classList.remove("archive-current"); }
    current = segment;
    if (!segment) return;
    segment.setAttribute("aria-current", "true");
    segment.classList.add("archive-current");
    if (scroll && follow && follow.checked) segment.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function seek(seconds, play) {
    const go = () => {
      audio.currentTime = seconds;
      markCurrent(seconds, true);
      if (play) audio.play().catch(() => {});
    };
    if (audio.readyState >= 1) go();
    else audio.addEventListener("loadedmetadata", go, { once: true });
    markCurrent(seconds, true);
  }

  function hashSeconds() {
    const match = /^#t=(\d+(?:\.\d+)?)/.exec(window.location.hash);
    return match ? parseFloat(match[1]) : null;
  }

  audio.addEventListener("timeupdate", () => markCurrent(audio.currentTime, !audio.paused));
  audio.addEventListener("seeked", () => markCurrent(audio.currentTime, true));

  document.addEventListener("click", (event) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const jump = event.target.closest("a.archive-jump");
    const sentence = jump ? null : event.target.closest(".archive-segment");
    if (!jump && !sentence) return;
    if (sentence && window.getSelection().toString()) return; // selecting text, not playing
    event.preventDefault();
    const seconds = parseFloat((jump || sentence).dataset.start);
    history.replaceState(null, "", "#t=" + seconds);
    seek(seconds, true);
  });

  window.addEventListener("hashchange", () => {
    const seconds = hashSeconds();
    if (seconds !== null) seek(seconds, true);
  });

  const copy = document.getElementById("archive-copy-link");
  const status = document.getElementById("archive-copy-status");
  copy.addEventListener("click", async () => {
    const seconds = Math.floor(audio.currentTime * 10) / 10;
    const url = new URL(copy.dataset.page, window.location.href).href + "#t=" + seconds;
    status.dataset.url = url;
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = "Copied: " + url;
    } catch (error) {
      status.textContent = "Copy this link: " + url;
    }
  });

  const start = hashSeconds();
  if (start !== null) seek(start, false);
})();
