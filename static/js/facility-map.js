// Facility map: Leaflet on every element with `data-facility-map`. Needs the vendored leaflet.js/.css.
//
//   <div data-facility-map
//        data-geojson-url="/…/geojson"   a GeoJSON FeatureCollection; gets ?bbox=west,south,east,north
//        data-tile-url="https://…/{z}/{x}/{y}.png" data-tile-attribution="© …"   (no tiles when empty)
//        data-link-label="Сторінка закладу"         text of the link to feature.properties.url
//        data-doctors-label="Лікарі"                title of the list of feature.properties.doctors
//                                                   ([{name, speciality_label, accepts_new_patients}],
//                                                   the place's working doctors)
//        data-accepting-label="приймає нових пацієнтів" data-not-accepting-label="не приймає нових пацієнтів"
//                                                   what each doctor's accepts_new_patients says
//        data-center-lat="50.45" data-center-lng="30.52" data-zoom="15"   optional; default: all Ukraine
//        data-map-labels='{"zoomIn": "…", …}'>      texts of Leaflet's controls ({% map_labels %})
//   </div>
//
// Markers are refetched for the visible area after every move. The element gets data-state="loading",
// "ready" or "error" and data-feature-count, so that pages and tests can tell when markers are in.
(function () {
  "use strict";

  var UKRAINE = { lat: 48.5, lng: 31.2, zoom: 6 };

  function number(value) {
    var parsed = parseFloat(value);
    return isFinite(parsed) ? parsed : null;
  }

  function safeUrl(url) {
    // Only links within the portal or to http(s) pages, never javascript: and the like.
    return typeof url === "string" && /^(\/(?!\/)|https?:\/\/)/i.test(url) ? url : null;
  }

  function doctorList(doctors, title, texts) {
    var box = document.createElement("div");
    box.style.margin = "0.5em 0"; // compact: Leaflet's popup gives paragraphs and lists wide margins
    var heading = document.createElement("div");
    heading.textContent = title;
    box.appendChild(heading);
    var list = document.createElement("ul");
    list.style.margin = "0";
    list.style.paddingLeft = "1.25em";
    doctors.forEach(function (doctor) {
      var item = document.createElement("li");
      var label = doctor && doctor.speciality_label ? " — " + doctor.speciality_label : "";
      item.textContent = ((doctor && doctor.name) || "") + label;
      if (doctor && typeof doctor.accepts_new_patients === "boolean") {
        var accepting = document.createElement("span");
        accepting.className = doctor.accepts_new_patients ? "doctor-accepting" : "doctor-not-accepting";
        accepting.textContent = " · " + (doctor.accepts_new_patients ? texts.accepting : texts.notAccepting);
        item.appendChild(accepting);
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function popupContent(properties, texts) {
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = properties.name || "";
    box.appendChild(name);
    if (properties.address) {
      var address = document.createElement("div");
      address.textContent = properties.address;
      box.appendChild(address);
    }
    if (Array.isArray(properties.doctors) && properties.doctors.length) {
      box.appendChild(doctorList(properties.doctors, texts.doctors, texts));
    }
    var url = safeUrl(properties.url);
    if (url) {
      var link = document.createElement("a");
      link.href = url;
      link.textContent = texts.link;
      box.appendChild(link);
    }
    return box;
  }

  function bboxParam(bounds) {
    var clamp = function (value, limit) {
      return Math.max(-limit, Math.min(limit, value)).toFixed(6);
    };
    return [
      clamp(bounds.getWest(), 180),
      clamp(bounds.getSouth(), 90),
      clamp(bounds.getEast(), 180),
      clamp(bounds.getNorth(), 90),
    ].join(",");
  }

  function facilityMap(element) {
    var data = element.dataset;
    var texts = {
      link: data.linkLabel || "Сторінка закладу",
      doctors: data.doctorsLabel || "Лікарі",
      accepting: data.acceptingLabel || "приймає нових пацієнтів",
      notAccepting: data.notAcceptingLabel || "не приймає нових пацієнтів",
    };
    if (!element.clientHeight) element.style.height = "28rem"; // Leaflet needs a height
    var map = PortalMap.localised(element, PortalMap.labels(data));
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, { attribution: data.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    var lat = number(data.centerLat);
    var lng = number(data.centerLng);
    if (lat !== null && lng !== null) map.setView([lat, lng], number(data.zoom) || 15);
    else map.setView([UKRAINE.lat, UKRAINE.lng], number(data.zoom) || UKRAINE.zoom);

    var options = {
      pointToLayer: function (feature, latlng) {
        var name = (feature.properties && feature.properties.name) || "";
        return L.marker(latlng, { title: name, alt: name });
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(popupContent(feature.properties || {}, texts));
      },
    };
    var markers = L.layerGroup().addTo(map);
    var shown = {}; // feature key -> layer

    // Markers already on the map stay: an open popup pans the map, and the refetch must not close it.
    function show(collection) {
      var next = {};
      (collection.features || []).forEach(function (feature) {
        var key = JSON.stringify([feature.id, feature.geometry, feature.properties]);
        next[key] = shown[key] || L.geoJSON(feature, options).addTo(markers);
      });
      Object.keys(shown).forEach(function (key) {
        if (!next[key]) markers.removeLayer(shown[key]);
      });
      shown = next;
    }

    var controller = null;
    function refresh() {
      if (!data.geojsonUrl) return;
      if (controller) controller.abort(); // only the latest view matters
      controller = new AbortController();
      var url = new URL(data.geojsonUrl, window.location.href);
      url.searchParams.set("bbox", bboxParam(map.getBounds()));
      element.dataset.state = "loading";
      var headers = { Accept: "application/geo+json, application/json" };
      fetch(url.toString(), { signal: controller.signal, headers: headers })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (collection) {
          show(collection);
          element.dataset.featureCount = String((collection.features || []).length);
          element.dataset.state = "ready";
        })
        .catch(function (error) {
          if (error.name !== "AbortError") element.dataset.state = "error";
        });
    }
    map.on("moveend", refresh);
    refresh();
    return map;
  }

  function init() {
    if (!window.L) return; // without Leaflet the page keeps its list
    var elements = document.querySelectorAll("[data-facility-map]");
    for (var i = 0; i < elements.length; i += 1) facilityMap(elements[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
