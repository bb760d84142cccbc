// What the portal's Leaflet maps share (facility-map.js, location-picker.js); load it before them.
//
//   PortalMap.labels(element.dataset, {marker: "…"})   the page's texts of Leaflet's controls
//                                                      (data-map-labels='{"zoomIn": "…", …}', {% map_labels %}),
//                                                      Ukrainian where the page gives none
//   PortalMap.localised(element, labels)               L.map with those texts on its own controls
(function () {
  "use strict";

  var LABELS = {
    zoomIn: "Наблизити",
    zoomOut: "Віддалити",
    closePopup: "Закрити",
    leaflet: "Leaflet — бібліотека JavaScript для інтерактивних мап",
  };

  function labels(data, extra) {
    var defaults = Object.assign({}, LABELS, extra || {});
    var given = {};
    try {
      given = JSON.parse(data.mapLabels || "{}");
    } catch (error) {
      given = {};
    }
    var result = {};
    Object.keys(defaults).forEach(function (key) {
      result[key] = given[key] || defaults[key];
    });
    return result;
  }

  // Leaflet's own controls speak English: they get the page's texts.
  function localised(element, texts) {
    var map = L.map(element, { zoomControl: false });
    L.control.zoom({ zoomInTitle: texts.zoomIn, zoomOutTitle: texts.zoomOut }).addTo(map);
    var leaflet = document.createElement("a");
    leaflet.href = "https://leafletjs.com";
    leaflet.title = texts.leaflet;
    leaflet.textContent = "Leaflet";
    map.attributionControl.setPrefix(leaflet.outerHTML);
    map.on("popupopen", function (event) {
      var button = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (button) {
        button.setAttribute("aria-label", texts.closePopup);
        button.title = texts.closePopup;
      }
    });
    return map;
  }

  window.PortalMap = { labels: labels, localised: localised };
})();
