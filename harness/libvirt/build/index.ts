/**
 * Built profiles (`src:DIR`): a user's libvirt tree built by the tool (xen SXPR code only, cached by
 * the tree's content, rebuilt incrementally after a change) and driven through the tree's own C
 * functions by our driver (driver/xcdriver.c), one persistent process per build.
 */
export { inspectTree, readVersion, treeLabel, type TreeInfo, type SxprHome } from "./tree.js";
export { buildTree, cacheDirFor, syncTree, type Build } from "./build.js";
export {
  missingPackages,
  installCommand,
  installedPackages,
  packagesFor,
  decideBuildPlace,
  parseBuildIn,
  realPackageHost,
  dpkgStatusFile,
  BUILD_PACKAGES,
  IMAGE_EXTRA_PACKAGES,
  BUILD_IN,
  type BuildIn,
  type PackageHost,
  type PlaceDecision,
} from "./packages.js";
export { chooseBuildPlace, hostPlace, containerPlace, bindMount, buildImageTag, imagePackages, ensureBuildImage, engineAnswers, runningBuildContainers, type BuildPlace } from "./place.js";
export { compileDriver, driverEra, DriverProcess, type DriverEra, type DriverReply, type NativeCommand } from "./driver.js";
export { resolveSourceProfile, isSourceVersion, makeBuiltProfile, closeBuiltProfiles, forgetSourceProfiles, errorFor as libvirtErrorOf, type BuiltProfile, type Conversion } from "./profile.js";
export { prepareProfiles } from "./prepare.js";
export { suiteFromTree, sourceSuiteDir, readTreeSuite, runSuite, type TreeSuite, type SuiteCase, type SuiteCaseResult } from "./suite.js";
export type { BuildRecording, BuildProvenance, RecordedConversion } from "./recording.js";
