// Every page: forms and links marked data-busy show progress until the next page comes (common/busy.js).
import {busyOnNavigation} from "../common/busy.js";

busyOnNavigation();
