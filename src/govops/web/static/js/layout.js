/* govops console: what makes every page usable on a phone. The menu button of the header, tables that scroll
   in their own box with a cue, and a searchable chooser in place of each multiple select. Plain script, no
   network; re-runs on what HTMX swaps in. Every text it shows comes from the page (data-* attributes written
   in the reader's language by the server). */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // --- the menu --------------------------------------------------------------------------------------------
  function setUpMenu() {
    var header = document.querySelector("header.top");
    var button = header && header.querySelector(".menu-toggle");
    if (!button || button.dataset.ready) return;
    button.dataset.ready = "1";
    function open(yes) {
      header.classList.toggle("menu-open", yes);
      button.setAttribute("aria-expanded", yes ? "true" : "false");
    }
    button.addEventListener("click", function () {
      var opening = !header.classList.contains("menu-open");
      open(opening);
      if (opening) {
        var first = header.querySelector(".menu a, .menu button");
        if (first) first.focus();
      }
    });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        open(false);
        button.focus();
      }
    });
  }

  // --- tables ----------------------------------------------------------------------------------------------
  function hintText() {
    return document.body.dataset.scrollHint || "";
  }

  function watchScroll(box, hint) {
    function update() {
      var more = box.scrollWidth - box.clientWidth;
      box.classList.toggle("more-left", box.scrollLeft > 1);
      box.classList.toggle("more-right", more - box.scrollLeft > 1);
      hint.hidden = more <= 1;
    }
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  }

  function setUpTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      if (table.closest(".table-scroll") || table.closest(".chooser")) return;
      var box = table.parentElement;
      // A table alone in its wrapper (.table-wrap) scrolls in that wrapper; any other gets a box of its own.
      if (!box.classList.contains("table-wrap") || box.children.length !== 1) {
        box = document.createElement("div");
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
      box.classList.add("table-scroll");
      box.tabIndex = 0; // a keyboard can scroll it too
      var hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.textContent = hintText();
      hint.hidden = true;
      box.parentNode.insertBefore(hint, box);
      watchScroll(box, hint);
    });
  }

  // --- multiple selects ------------------------------------------------------------------------------------
  function setUpChoosers(root) {
    root.querySelectorAll("select[multiple]").forEach(function (select) {
      if (select.dataset.chooser) return;
      select.dataset.chooser = "1";
      var words = document.body.dataset;
      var chooser = document.createElement("div");
      chooser.className = "chooser";
      if (select.dataset.testid) chooser.dataset.testid = select.dataset.testid + "-chooser";
      var chosen = document.createElement("div");
      chosen.className = "chosen";
      chosen.setAttribute("aria-live", "polite");
      var filter = document.createElement("input");
      filter.type = "search";
      filter.placeholder = words.chooserFilter || "";
      filter.setAttribute("aria-label", words.chooserFilter || "");
      var list = document.createElement("ul");
      var label = select.closest("label");
      var rows = [];

      Array.prototype.forEach.call(select.options, function (option) {
        var item = document.createElement("li");
        var row = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.value = option.value;
        box.checked = option.selected;
        box.addEventListener("change", function () {
          option.selected = box.checked;
          select.dispatchEvent(new Event("change", { bubbles: true }));
          drawChosen();
        });
        row.appendChild(box);
        row.appendChild(document.createTextNode(option.textContent));
        item.appendChild(row);
        list.appendChild(item);
        rows.push({ option: option, box: box, item: item, text: fold(option.textContent) });
      });

      function drawChosen() {
        chosen.textContent = "";
        var any = false;
        rows.forEach(function (r) {
          r.box.checked = r.option.selected;
          if (!r.option.selected) return;
          any = true;
          var chip = document.createElement("button");
          chip.type = "button";
          chip.textContent = r.option.textContent + " ×";
          chip.setAttribute("aria-label", (words.chooserRemove || "") + " " + r.option.textContent);
          chip.addEventListener("click", function () {
            r.option.selected = false;
            select.dispatchEvent(new Event("change", { bubbles: true }));
            drawChosen();
          });
          chosen.appendChild(chip);
        });
        if (!any) {
          var none = document.createElement("span");
          none.className = "none";
          none.textContent = words.chooserNone || "";
          chosen.appendChild(none);
        }
      }

      filter.addEventListener("input", function () {
        var needle = fold(filter.value);
        rows.forEach(function (r) { r.item.hidden = needle !== "" && r.text.indexOf(needle) < 0; });
      });
      // Enter in the filter must not send the form the chooser sits in.
      filter.addEventListener("keydown", function (event) { if (event.key === "Enter") event.preventDefault(); });

      chooser.appendChild(chosen);
      chooser.appendChild(filter);
      chooser.appendChild(list);
      select.hidden = true;
      chooser.setAttribute("role", "group");
      if (label) {
        // A label may not hold the chooser's own labels (it would take their clicks): it becomes a plain group
        // with the same words, and the chooser goes in it.
        var name = Array.prototype.filter.call(label.childNodes, function (n) { return n.nodeType === 3; });
        chooser.setAttribute("aria-label", name.map(function (n) { return n.textContent; }).join(" ").trim());
        var field = document.createElement("div");
        field.className = "chooser-field";
        while (label.firstChild) field.appendChild(label.firstChild);
        label.parentNode.replaceChild(field, label);
        field.appendChild(chooser);
      } else {
        select.parentNode.insertBefore(chooser, select.nextSibling);
      }
      drawChosen();
    });
  }

  // The browser words its own file input ("Choose File", "No file chosen") in the browser's language, not the
  // page's: it is hidden behind a button and a file name worded by the page. The input stays in the form, so
  // `required` and the upload work as before.
  function setUpFileInputs(root) {
    var choose = document.body.dataset.fileChoose, none = document.body.dataset.fileNone;
    if (!choose) return;
    root.querySelectorAll("input[type=file]:not([data-dressed])").forEach(function (input) {
      input.dataset.dressed = "true";
      input.classList.add("file-native");
      input.tabIndex = -1;
      var picker = document.createElement("span");
      picker.className = "file-picker";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "file-button";
      button.textContent = choose;
      var name = document.createElement("span");
      name.className = "file-name";
      name.setAttribute("aria-live", "polite");
      name.textContent = none;
      button.addEventListener("click", function () { input.click(); });
      input.addEventListener("change", function () {
        name.textContent = input.files && input.files.length
          ? Array.prototype.map.call(input.files, function (f) { return f.name; }).join(", ") : none;
      });
      picker.appendChild(button);
      picker.appendChild(name);
      input.parentNode.insertBefore(picker, input.nextSibling);
    });
  }

  // Tone marks and đ aside, as the server's search does (govops.text.fold).
  function fold(text) {
    return text.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUp(root) {
    setUpTables(root);
    setUpChoosers(root);
    setUpFileInputs(root);
  }

  function start() {
    setUpMenu();
    setUp(document);
    document.body.addEventListener("htmx:afterSettle", function (event) { setUp(event.target); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
