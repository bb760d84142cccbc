// Location picker: a click on the map fills two coordinate inputs. Needs the vendored leaflet.js/.css.
//
//   <input id="id_lat" name="lat"> <input id="id_lng" name="lng">      (they work on their own without JS)
//   <div data-location-picker data-lat-input="id_lat" data-lng-input="id_lng"
//        data-tile-url="https://…/{z}/{x}/{y}.png" data-tile-attribution="© …"  (no tiles when empty)
//        data-zoom="15"></div>                                           optional zoom for a set location
//
// A click (or dragging the marker) writes 6 decimals into the inputs and fires their input/change
// events; typing in the inputs (a decimal comma is fine) moves the marker.
(function () {
  "use strict";

  var UKRAINE = { lat: 48.5, lng: 31.2, zoom: 6 };

  function coordinate(input, limit) {
    var value = parseFloat(String(input.value).trim().replace(",", "."));
    return isFinite(value) && Math.abs(value) <= limit ? value : null;
  }

  function locationPicker(element) {
    var data = element.dataset;
    var latInput = document.getElementById(data.latInput);
    var lngInput = document.getElementById(data.lngInput);
    if (!latInput || !lngInput) return null;
    if (!element.clientHeight) element.style.height = "20rem"; // Leaflet needs a height
    var map = L.map(element);
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { attribution: data.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var zoom = parseFloat(data.zoom) || 15;
    var marker = null;
    var filling = false;

    function place(latlng) {
      if (marker) marker.setLatLng(latlng);
      else {
        marker = L.marker(latlng, { draggable: true, autoPan: true }).addTo(map);
        marker.on("dragend", function () {
          fill(marker.getLatLng());
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
    }
    latInput.addEventListener("input", typed);
    lngInput.addEventListener("input", typed);
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
