// Location picker: a click on the map fills two coordinate inputs. Needs the vendored leaflet.js/.css.
//
//   <input id="id_lat" name="lat"> <input id="id_lng" name="lng">      (they work on their own without JS)
//   <div data-location-picker data-lat-input="id_lat" data-lng-input="id_lng"
//        data-tile-url="https://…/{z}/{x}/{y}.png" data-tile-attribution="© …"  (no tiles when empty)
//        data-zoom="15"                                                   optional zoom for a set location
//        data-settlement-url="/places/settlement.json"                   where a settlement is (optional)
//        data-map-labels='{"zoomIn": "…", …}'></div>                      texts of Leaflet's controls
//
// A click (or dragging the marker) writes 6 decimals into the inputs and fires their input/change
// events; typing in the inputs (a decimal comma is fine) moves the marker.
//
// The map opens on the settlement typed in the same form: the address of the place of service (its own
// fields, or the actual or registration address it is "the same as"). When the point is farther from that
// settlement than the settlement reaches (or, for one the map does not know, outside its region), a note
// under the map says so; it is a live region, and the coordinate inputs refer to it (aria-describedby).
// The element gets data-settlement-state="loading", "ready" or "error" while it asks where the settlement is.
(function () {
  "use strict";

  var UKRAINE = { lat: 48.5, lng: 31.2, zoom: 6 };
  var SETTLEMENT_URL = "/places/settlement.json"; // registry:settlement-location
  var LABELS = { marker: "Місце надання послуг" }; // besides PortalMap's
  var LOOKUP_DELAY = 400; // ms after the last keystroke in the address

  function coordinate(input, limit) {
    var value = parseFloat(String(input.value).trim().replace(",", "."));
    return isFinite(value) && Math.abs(value) <= limit ? value : null;
  }

  function field(form, name) {
    return form.querySelector('[name="' + name + '"], [name$="-' + name + '"]');
  }

  function ticked(form, name) {
    var box = field(form, name);
    return Boolean(box && box.checked);
  }

  // The address of the place of service: its own fields, or those of the address it is the same as.
  function placeAddress(form) {
    var prefix = "division";
    if (ticked(form, "division_same_as_actual")) {
      prefix = ticked(form, "same_as_registration") ? "registration" : "residence";
    }
    var value = function (part) {
      var input = field(form, prefix + "_" + part);
      return input ? input.value.trim() : "";
    };
    return { area: value("area"), settlement: value("settlement"), settlement_type: value("settlement_type") };
  }

  function describe(input, id) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (ids.indexOf(id) < 0) ids.push(id);
    input.setAttribute("aria-describedby", ids.join(" "));
  }

  function locationPicker(element) {
    var data = element.dataset;
    var latInput = document.getElementById(data.latInput);
    var lngInput = document.getElementById(data.lngInput);
    if (!latInput || !lngInput) return null;
    if (!element.clientHeight) element.style.height = "20rem"; // Leaflet needs a height
    var labels = PortalMap.labels(data, LABELS);
    var map = PortalMap.localised(element, labels);
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { attribution: data.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var zoom = parseFloat(data.zoom) || 15;
    var marker = null;
    var filling = false;
    var settlement = null; // the last answer of the settlement URL

    // The note under the map: an always-present live region, so that a new note is announced.
    var status = document.createElement("div");
    status.id = (element.id || data.latInput) + "-location-note";
    status.className = "location-note";
    status.setAttribute("role", "status");
    element.insertAdjacentElement("afterend", status);
    describe(latInput, status.id);
    describe(lngInput, status.id);

    function say(text, warning) {
      if (status.textContent === (text || "")) return; // said already: not announced again at each move
      status.textContent = "";
      if (!text) return;
      var note = document.createElement("p");
      note.className = warning ? "notice notice-warning" : "hint";
      note.textContent = text;
      status.appendChild(note);
    }

    // The point against the settlement: far from each of its places, or outside the region.
    function check() {
      if (!settlement) return say("");
      var messages = settlement.messages || {};
      var point = marker ? marker.getLatLng() : null;
      if (!point) return say(settlement.places.length ? "" : messages.not_found || "", false);
      if (settlement.places.length) {
        var nearest = Infinity;
        var inside = settlement.places.some(function (place) {
          var km = point.distanceTo([place.latitude, place.longitude]) / 1000;
          nearest = Math.min(nearest, km);
          return km <= place.radius_km;
        });
        return say(inside ? "" : messages.far.replace("{distance}", String(Math.round(nearest))), true);
      }
      if (settlement.area && !L.latLngBounds(settlement.area.bounds).contains(point)) {
        return say(messages.outside_area, true);
      }
      say(messages.not_found || "", false);
    }

    function centre() {
      var bounds = null;
      if (settlement.places.length) {
        bounds = L.latLngBounds([]);
        settlement.places.forEach(function (place) {
          bounds.extend(L.latLng(place.latitude, place.longitude).toBounds(place.radius_km * 2000));
        });
      } else if (settlement.area) {
        bounds = L.latLngBounds(settlement.area.bounds);
      }
      if (bounds) map.fitBounds(bounds, { maxZoom: zoom, animate: false }); // settled at once, no motion
    }

    var form = element.closest("form");
    var asked = null;
    var controller = null;
    function lookUp() {
      var address = form ? placeAddress(form) : { area: "", settlement: "", settlement_type: "" };
      var query = new URLSearchParams(address).toString();
      if (query === asked) return;
      asked = query;
      if (controller) controller.abort(); // only the latest address matters
      if (!address.area && !address.settlement) {
        settlement = null;
        return check();
      }
      controller = new AbortController();
      element.dataset.settlementState = "loading";
      var url = new URL(data.settlementUrl || SETTLEMENT_URL, window.location.href);
      url.search = query;
      fetch(url.toString(), { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (answer) {
          settlement = answer;
          if (answer.attribution) {
            var source = document.createElement("span"); // the data's source, credited as its licence asks
            source.textContent = answer.attribution;
            map.attributionControl.addAttribution(source.outerHTML);
          }
          if (!marker) centre(); // a point already set stays in view
          check();
          element.dataset.settlementState = "ready";
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          asked = null; // ask again on the next change
          element.dataset.settlementState = "error";
        });
    }
    var timer = null;
    function lookUpSoon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookUp, LOOKUP_DELAY);
    }
    if (form) {
      form.addEventListener("change", lookUp);
      form.addEventListener("input", lookUpSoon);
    }

    function place(latlng) {
      if (marker) marker.setLatLng(latlng);
      else {
        marker = L.marker(latlng, { draggable: true, autoPan: true, alt: labels.marker, title: labels.marker });
        marker.addTo(map);
        marker.on("dragend", function () {
          fill(marker.getLatLng());
          check();
        });
      }
    }

    function fill(latlng) {
      var point = latlng.wrap();
      latInput.value = point.lat.toFixed(6);
      lngInput.value = point.lng.toFixed(6);
      filling = true; // the events below are ours: the marker is already in place
      [latInput, lngInput].forEach(function (input) {
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      filling = false;
    }

    function current() {
      var lat = coordinate(latInput, 90);
      var lng = coordinate(lngInput, 180);
      return lat !== null && lng !== null ? L.latLng(lat, lng) : null;
    }

    var start = current();
    if (start) {
      place(start);
      map.setView(start, zoom);
    } else {
      map.setView([UKRAINE.lat, UKRAINE.lng], UKRAINE.zoom);
    }

    map.on("click", function (event) {
      place(event.latlng);
      fill(event.latlng);
      check();
    });

    function typed() {
      if (filling) return;
      var latlng = current();
      if (latlng) {
        place(latlng);
        map.panTo(latlng);
      } else if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      check();
    }
    latInput.addEventListener("input", typed);
    lngInput.addEventListener("input", typed);
    lookUp(); // an address already filled in (back on this step, or shown again with errors)
    return map;
  }

  function init() {
    if (!window.L) return; // the inputs alone still do the job
    var elements = document.querySelectorAll("[data-location-picker]");
    for (var i = 0; i < elements.length; i += 1) locationPicker(elements[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
